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
        Func<Func<TContext>, WriteGate, IServiceProvider, TDatabase> create,
        string sqlitePragmas = "")
        where TContext : DbContext
        where TSqlite : TContext
        where TPostgres : TContext
        where TDatabase : class
    {
        if (provider == "postgres")
        {
            var tuned = WithPoolDefaults(connectionString);
            services.AddPooledDbContextFactory<TPostgres>(o => QuietRetriedConflicts(o.UseNpgsql(tuned)));
            services.AddSingleton(sp =>
            {
                var factory = sp.GetRequiredService<IDbContextFactory<TPostgres>>();
                return create(() => factory.CreateDbContext(), new WriteGate(serialize: false), sp);
            });
            return services;
        }

        services.AddPooledDbContextFactory<TSqlite>(o => QuietRetriedConflicts(o.UseSqlite(connectionString).AddInterceptors(new SqlitePragmas(sqlitePragmas))));
        services.AddSingleton(sp =>
        {
            var factory = sp.GetRequiredService<IDbContextFactory<TSqlite>>();
            return create(() => factory.CreateDbContext(), new WriteGate(serialize: true), sp);
        });
        return services;
    }

    /// <summary>
    /// Registers the database a module's options describe (creating the data directory
    /// for SQLite); <paramref name="create"/> makes the module's database object;
    /// <paramref name="sqlitePragmas"/> are the module's own SQLite settings, if any.
    /// </summary>
    public static IServiceCollection AddModuleDatabase<TContext, TSqlite, TPostgres, TDatabase>(
        this IServiceCollection services,
        IModuleDatabaseOptions options,
        Func<Func<TContext>, WriteGate, TimeProvider, TDatabase> create,
        string sqlitePragmas = "")
        where TContext : DbContext
        where TSqlite : TContext
        where TPostgres : TContext
        where TDatabase : class
    {
        if (options.DatabaseProvider == "sqlite") Directory.CreateDirectory(options.DataDirectory);
        return services.AddModuleDatabase<TContext, TSqlite, TPostgres, TDatabase>(options.DatabaseProvider, options.ResolveConnectionString(),
            (open, gate, sp) => create(open, gate, sp.GetRequiredService<TimeProvider>()), sqlitePragmas);
    }

    /// <summary>
    /// Applies pending migrations (and WAL mode on SQLite) before the module takes requests.
    /// On PostgreSQL several instances of a module start against one database at once:
    /// a session advisory lock per module lets one migrate while the others wait, and
    /// they then find nothing pending (two migrating at once fail on "already exists").
    /// </summary>
    public static async Task MigrateAsync(DbContext db, string module, ILogger logger, CancellationToken cancellationToken)
    {
        if (db.Database.IsSqlite())
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        var locked = db.Database.IsNpgsql();
        if (locked)
        {
            await db.Database.OpenConnectionAsync(cancellationToken);
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_lock({MigrationLockKey(module)})", cancellationToken);
        }
        try
        {
            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
            if (pending.Count == 0) return;
            logger.LogInformation("Applying {Module} migrations: {Migrations}", module, string.Join(", ", pending));
            await db.Database.MigrateAsync(cancellationToken);
        }
        finally
        {
            if (locked)
            {
                await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_unlock({MigrationLockKey(module)})", CancellationToken.None);
                await db.Database.CloseConnectionAsync();
            }
        }
    }

    /// <summary>
    /// The connection defaults a module's PostgreSQL pool runs with, where the operator's
    /// connection string does not choose otherwise:
    /// <list type="bullet">
    /// <item>Npgsql prepares the statements a connection repeats (a module runs a few dozen
    /// statement shapes over and over, and a prepared one skips parsing and planning);</item>
    /// <item>a connection going back to the pool is not reset. The reset is seven statements
    /// the server runs on the connection's next use, several times a request, and it undoes
    /// session state modules never leave behind: they take transaction-scoped advisory locks,
    /// release their few session-scoped ones explicitly, and set, listen to or create nothing
    /// that outlives a transaction.</item>
    /// </list>
    /// </summary>
    public static string WithPoolDefaults(string connectionString)
    {
        // The plain builder holds only the keywords the string names, as written (any case).
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        if (!given.ContainsKey("Max Auto Prepare") && !given.ContainsKey("MaxAutoPrepare")) builder.MaxAutoPrepare = 64;
        if (!given.ContainsKey("No Reset On Close") && !given.ContainsKey("NoResetOnClose")) builder.NoResetOnClose = true;
        return builder.ConnectionString;
    }

    /// <summary>A stable lock key per module, the same in every process.</summary>
    private static long MigrationLockKey(string module) => LockKeys.Of("berth-migrations:" + module);

    /// <summary>
    /// A unique-key conflict between concurrent writers is expected and retried
    /// (<see cref="TransientConflict"/>), so EF's "failed executing command" is
    /// logged at Debug; a failure that is not retried still surfaces as an exception.
    /// </summary>
    private static DbContextOptionsBuilder QuietRetriedConflicts(DbContextOptionsBuilder options) =>
        options.ConfigureWarnings(w => w.Log((RelationalEventId.CommandError, LogLevel.Debug), (CoreEventId.SaveChangesFailed, LogLevel.Debug)));
}
