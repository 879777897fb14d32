using Berth.TestSupport;

namespace Berth.Registry.Tests;

/// <summary>
/// Several registry instances starting at once against one new PostgreSQL database
/// (a distributed deployment's first start): one migrates, the others wait for it,
/// and all of them come up.
/// </summary>
public sealed class ConcurrentStartTests
{
    [SkippableFact]
    public async Task Instances_starting_together_on_one_new_database_all_come_up()
    {
        var postgres = RequiredServer.Postgres();
        await using var database = await TemporaryPostgresDatabase.CreateAsync(postgres);
        var directories = Enumerable.Range(0, 3).Select(_ => new TempDirectory("berth-concurrent-start")).ToList();
        try
        {
            var servers = await Task.WhenAll(directories.Select(d => BerthHosts.StartServerOnPostgresAsync(d.Path, database.ConnectionString)));
            foreach (var server in servers)
            {
                using var http = server.CreateClient();
                using var response = await http.GetAsync("/v2/_catalog");
                Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
            }
            foreach (var server in servers) await server.DisposeAsync();
        }
        finally
        {
            foreach (var directory in directories) directory.Dispose();
        }
    }
}
