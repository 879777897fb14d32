using Berth.TestSupport;

namespace Berth.EndToEnd.Tests;

/// <summary>
/// Two registry instances, each its own Server process, on one PostgreSQL database
/// and blob store, behind one Gateway route (destinations "server" and "second").
/// Skips the test when no PostgreSQL server is available (fails under CI=true).
/// </summary>
public sealed class TwoRegistryInstances : IAsyncDisposable
{
    private readonly TemporaryPostgresDatabase _database;
    private readonly TempDirectory _data;

    private TwoRegistryInstances(TemporaryPostgresDatabase database, TempDirectory data, ServerProcess first, ServerProcess second, RunningApp gateway)
    {
        _database = database;
        _data = data;
        First = first;
        Second = second;
        Gateway = gateway;
    }

    public ServerProcess First { get; }
    public ServerProcess Second { get; }
    public RunningApp Gateway { get; }

    public static async Task<TwoRegistryInstances> StartAsync(string name)
    {
        var postgres = RequiredServer.Postgres();
        var database = await TemporaryPostgresDatabase.CreateAsync(postgres);
        var data = new TempDirectory(name);
        string[] shared = ["--services", "registry", "--Registry:DatabaseProvider", "postgres", "--Registry:ConnectionString", database.ConnectionString,
            "--Registry:StorageDirectory", Path.Combine(data.Path, "storage")];
        ServerProcess? first = null, second = null;
        try
        {
            first = await ServerProcess.StartAsync(Path.Combine(data.Path, "a"), shared);
            second = await ServerProcess.StartAsync(Path.Combine(data.Path, "b"), shared);
            var gateway = await BerthHosts.StartGatewayAsync(first.BaseAddress,
                "--ReverseProxy:Clusters:registry:Destinations:second:Address", second.BaseAddress.ToString());
            return new TwoRegistryInstances(database, data, first, second, gateway);
        }
        catch
        {
            first?.Dispose();
            second?.Dispose();
            await database.DisposeAsync();
            data.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Gateway.DisposeAsync();
        }
        finally
        {
            try
            {
                First.Dispose();
                Second.Dispose();
            }
            finally
            {
                try
                {
                    await _database.DisposeAsync();
                }
                finally
                {
                    _data.Dispose();
                }
            }
        }
    }
}
