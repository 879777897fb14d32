using Berth.Data;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Berth.AuditLog.Data;

/// <summary>
/// Applies the audit log's migrations before it records or ships anything. Events
/// can arrive earlier (other modules' outboxes start first): recording waits for <see cref="Ready"/>.
/// </summary>
public sealed class AuditLogInitializer(AuditLogDb auditLogDb, ILogger<AuditLogInitializer> logger) : IHostedService
{
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once the schema is current.</summary>
    public Task Ready => _ready.Task;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var db = auditLogDb.Open();
        await ModuleDatabaseSetup.MigrateAsync(db, "auditlog", logger, cancellationToken);
        _ready.TrySetResult();
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
