using Berth.TestSupport;

namespace Berth.AuditLog.Tests;

/// <summary>
/// An embedded Berth whose audit log lives in a fresh PostgreSQL database (the server
/// <c>BERTH_TEST_POSTGRES</c> names; the test skips without one, fails under CI);
/// disposing stops the server and drops the database.
/// </summary>
public sealed class AuditLogOnPostgres : IAsyncDisposable
{
    private readonly TemporaryPostgresDatabase _database;
    private readonly TempDirectory _data;

    private AuditLogOnPostgres(TemporaryPostgresDatabase database, TempDirectory data, RunningApp server)
    {
        _database = database;
        _data = data;
        Server = server;
    }

    public RunningApp Server { get; }

    public static async Task<AuditLogOnPostgres> StartAsync(string name)
    {
        var database = await TemporaryPostgresDatabase.CreateAsync(RequiredServer.Postgres(), "berth_auditlog");
        var data = new TempDirectory(name);
        try
        {
            var server = await BerthHosts.StartSecuredServerAsync(data.Path,
                "--AuditLog:DatabaseProvider", "postgres", "--AuditLog:ConnectionString", database.ConnectionString);
            return new AuditLogOnPostgres(database, data, server);
        }
        catch
        {
            data.Dispose();
            await database.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        _data.Dispose();
        await _database.DisposeAsync();
    }
}
