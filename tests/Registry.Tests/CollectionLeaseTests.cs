using System.Net;
using Berth.Collector.Running;
using Berth.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Registry.Tests;

/// <summary>
/// Collections never overlap: one lease per process on SQLite, and one among all
/// instances whose collectors share a PostgreSQL database, given up when its holder
/// is done (or gone) and then taken by another.
/// </summary>
public sealed class CollectionLeaseTests
{
    [Fact]
    public async Task In_one_process_the_lease_is_held_once_until_given_up()
    {
        using var data = new TempDirectory("berth-lease");
        await using var server = await BerthHosts.StartServerAsync(data.Path);
        var lease = server.App.Services.GetRequiredService<CollectionLease>();

        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var held = await lease.AcquireAsync(patience.Token);
        Assert.Null(await lease.TryAcquireAsync(CancellationToken.None));
        await held.DisposeAsync();
        await using var again = await lease.AcquireAsync(patience.Token);
    }

    [SkippableFact]
    public async Task Instances_sharing_a_postgres_database_take_turns_and_the_api_says_when_another_is_collecting()
    {
        var postgres = RequiredServer.Postgres();
        await using var registryDatabase = await TemporaryPostgresDatabase.CreateAsync(postgres, "berth_registry");
        await using var collectorDatabase = await TemporaryPostgresDatabase.CreateAsync(postgres, "berth_collector");
        using var data = new TempDirectory("berth-lease-pg");
        string[] shared = ["--Registry:DatabaseProvider", "postgres", "--Registry:ConnectionString", registryDatabase.ConnectionString,
            "--Registry:StorageDirectory", Path.Combine(data.Path, "storage"),
            "--Collector:DatabaseProvider", "postgres", "--Collector:ConnectionString", collectorDatabase.ConnectionString];
        await using var first = await BerthHosts.StartServerAsync(Path.Combine(data.Path, "a"), shared);
        await using var second = await BerthHosts.StartServerAsync(Path.Combine(data.Path, "b"), shared);
        var firstLease = first.App.Services.GetRequiredService<CollectionLease>();
        var secondLease = second.App.Services.GetRequiredService<CollectionLease>();

        // Waited for: each instance's schedule takes the lease for a moment at start.
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var held = await firstLease.AcquireAsync(patience.Token);
        Assert.Null(await secondLease.TryAcquireAsync(CancellationToken.None));
        var admin = RegistryLogin.WithBasic(second.CreateClient(), "admin", BerthHosts.AdminPassword);
        var (refused, body) = await RegistryLogin.CallAsync(admin, HttpMethod.Post, "/api/v1/collector/runs", new { dryRun = true });
        Assert.Equal(HttpStatusCode.BadRequest, refused);
        Assert.Contains("another instance", body!.Value.GetProperty("message").GetString());

        await held.DisposeAsync();
        // Asked again while a schedule's start-up look may hold the lease for a moment.
        var (started, run) = await RegistryLogin.CallAsync(admin, HttpMethod.Post, "/api/v1/collector/runs", new { dryRun = true });
        for (var attempt = 0; started == HttpStatusCode.BadRequest && attempt < 50; attempt++)
        {
            await Task.Delay(100);
            (started, run) = await RegistryLogin.CallAsync(admin, HttpMethod.Post, "/api/v1/collector/runs", new { dryRun = true });
        }
        Assert.Equal(HttpStatusCode.OK, started);
        // Taken by the instance that was refused; the other reads the same history.
        var id = run!.Value.GetProperty("id").GetString();
        var firstAdmin = RegistryLogin.WithBasic(first.CreateClient(), "admin", BerthHosts.AdminPassword);
        for (var attempt = 0; ; attempt++)
        {
            var (status, seen) = await RegistryLogin.CallAsync(firstAdmin, HttpMethod.Get, $"/api/v1/collector/runs/{id}");
            Assert.Equal(HttpStatusCode.OK, status);
            if (seen!.Value.GetProperty("status").GetString() == "succeeded") break;
            Assert.True(attempt < 200, "the collection did not finish");
            await Task.Delay(100);
        }
    }
}
