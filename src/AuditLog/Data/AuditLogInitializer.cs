using Berth.Data;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Berth.AuditLog.Data;

/// <summary>Applies the audit log's migrations before it records or ships anything.</summary>
public sealed class AuditLogInitializer(AuditLogDb auditLogDb, ILogger<AuditLogInitializer> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var db = auditLogDb.Open();
        await ModuleDatabaseSetup.MigrateAsync(db, "auditlog", logger, cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
