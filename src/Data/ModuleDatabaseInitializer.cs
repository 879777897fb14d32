using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Berth.Data;

/// <summary>
/// Applies a module's pending migrations before it takes requests. Work that can
/// start earlier (events arriving from other modules' outboxes, schedulers) waits
/// for <see cref="Ready"/>.
/// </summary>
public abstract class ModuleDatabaseInitializer<TContext>(ModuleDatabase<TContext> database, string module, ILogger logger) : IHostedService
    where TContext : DbContext
{
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once the schema is current.</summary>
    public Task Ready => _ready.Task;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var db = database.Open();
        await ModuleDatabaseSetup.MigrateAsync(db, module, logger, cancellationToken);
        _ready.TrySetResult();
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
