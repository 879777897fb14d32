using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Berth.Data;

/// <summary>
/// Registers a module's database for the chosen provider: each provider has its
/// own context subclass (and its own migrations), pooled, with the write gate
/// that suits it.
/// </summary>
public static class ModuleDatabaseSetup
{
    public static IServiceCollection AddModuleDatabase<TContext, TSqlite, TPostgres, TDatabase>(
        this IServiceCollection services,
        string provider,
        string connectionString,
        Func<Func<TContext>, WriteGate, IServiceProvider, TDatabase> create)
        where TContext : DbContext
        where TSqlite : TContext
        where TPostgres : TContext
        where TDatabase : class
    {
        if (provider == "postgres")
        {
            services.AddPooledDbContextFactory<TPostgres>(o => QuietRetriedConflicts(o.UseNpgsql(connectionString)));
            services.AddSingleton(sp =>
            {
                var factory = sp.GetRequiredService<IDbContextFactory<TPostgres>>();
                return create(() => factory.CreateDbContext(), new WriteGate(serialize: false), sp);
            });
            return services;
        }

        services.AddPooledDbContextFactory<TSqlite>(o => QuietRetriedConflicts(o.UseSqlite(connectionString).AddInterceptors(new SqlitePragmas())));
        services.AddSingleton(sp =>
        {
            var factory = sp.GetRequiredService<IDbContextFactory<TSqlite>>();
            return create(() => factory.CreateDbContext(), new WriteGate(serialize: true), sp);
        });
        return services;
    }

    /// <summary>Applies pending migrations (and WAL mode on SQLite) before the module takes requests.</summary>
    public static async Task MigrateAsync(DbContext db, string module, ILogger logger, CancellationToken cancellationToken)
    {
        if (db.Database.IsSqlite())
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
        if (pending.Count == 0) return;
        logger.LogInformation("Applying {Module} migrations: {Migrations}", module, string.Join(", ", pending));
        await db.Database.MigrateAsync(cancellationToken);
    }

    /// <summary>
    /// A unique-key conflict between concurrent writers is expected and retried
    /// (<see cref="TransientConflict"/>), so EF's "failed executing command" is
    /// logged at Debug; a failure that is not retried still surfaces as an exception.
    /// </summary>
    private static DbContextOptionsBuilder QuietRetriedConflicts(DbContextOptionsBuilder options) =>
        options.ConfigureWarnings(w => w.Log((RelationalEventId.CommandError, LogLevel.Debug), (CoreEventId.SaveChangesFailed, LogLevel.Debug)));
}
