using Berth.Data;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Berth.Registry.Data;

/// <summary>Applies pending migrations before the server takes requests.</summary>
public sealed class RegistryDatabaseInitializer(RegistryDb registryDb, ILogger<RegistryDatabaseInitializer> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var db = registryDb.Open();
        await ModuleDatabaseSetup.MigrateAsync(db, "registry", logger, cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
