using Berth.TestSupport;

namespace Berth.Registry.Tests;

/// <summary>
/// A Server whose metadata lives in a fresh PostgreSQL database (BERTH_TEST_POSTGRES
/// names the server; .ci/run starts one). Skips with the reason when none is
/// configured, and fails under CI=true.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private readonly TempDirectory _data = new("berth-pg");
    private TemporaryPostgresDatabase? _database;

    public RunningApp? Server { get; private set; }

    public string? ConnectionString { get; private set; }

    /// <summary>The reason the fixture could not start, or null.</summary>
    public string? Unavailable { get; private set; }

    public async Task InitializeAsync()
    {
        var adminConnectionString = Environment.GetEnvironmentVariable("BERTH_TEST_POSTGRES");
        if (string.IsNullOrEmpty(adminConnectionString))
        {
            Unavailable = "PostgreSQL is not configured: set BERTH_TEST_POSTGRES to a connection string (.ci/run starts one)";
            return;
        }
        _database = await TemporaryPostgresDatabase.CreateAsync(adminConnectionString);
        ConnectionString = _database.ConnectionString;
        Server = await BerthHosts.StartServerOnPostgresAsync(_data.Path, ConnectionString);
    }

    /// <summary>The running server, or skip (fail under CI) with the reason it is missing.</summary>
    public RunningApp Require()
    {
        RequiredServer.Require(Server is not null, Unavailable ?? "PostgreSQL server did not start");
        return Server!;
    }

    public async Task DisposeAsync()
    {
        if (Server is not null) await Server.DisposeAsync();
        if (_database is not null) await _database.DisposeAsync();
        _data.Dispose();
    }
}
