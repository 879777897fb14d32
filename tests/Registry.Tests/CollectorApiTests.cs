using System.Net;
using System.Text.Json;
using Berth.Collector.Data;
using Berth.Registry.Data;
using Berth.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Registry.Tests;

/// <summary>The collector module over REST: on-demand runs, their history, who may run them, resuming after a crash, and the audit entry.</summary>
public sealed class CollectorApiTests : IAsyncLifetime
{
    private readonly TempDirectory _data = new("berth-collector");
    private RunningApp? _server;

    private RunningApp Server => _server!;

    private static string[] Args => ["--Registry:GracePeriod", "00:00:01", "--Collector:DefaultTimeMachineWindow", "00:00:00"];

    public async Task InitializeAsync() => _server = await BerthHosts.StartServerAsync(_data.Path, Args);

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        _data.Dispose();
    }

    private HttpClient Admin() => RegistryLogin.WithBasic(Server.CreateClient(), "admin", BerthHosts.AdminPassword);

    private static async Task<JsonElement> WaitForEndAsync(HttpClient http, string id)
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var (status, body) = await RegistryLogin.CallAsync(http, HttpMethod.Get, $"/api/v1/collector/runs/{id}");
            Assert.Equal(HttpStatusCode.OK, status);
            if (body!.Value.GetProperty("status").GetString() != "running") return body.Value;
            await Task.Delay(100);
        }
        throw new TimeoutException($"collection {id} did not finish");
    }

    [Fact]
    public async Task A_dry_run_reports_and_a_real_run_removes_and_both_are_in_the_history()
    {
        var oci = new OciClient(Server.CreateClient());
        var repository = OciClient.NewRepository("api");
        var (_, oldDigest) = await oci.PushImageAsync(repository, "latest");
        await oci.PushImageAsync(repository, "latest");
        await Task.Delay(TimeSpan.FromSeconds(1.3));
        var admin = Admin();

        var (status, started) = await RegistryLogin.CallAsync(admin, HttpMethod.Post, "/api/v1/collector/runs", new { repository, dryRun = true });
        Assert.Equal(HttpStatusCode.OK, status);
        var dry = await WaitForEndAsync(admin, started!.Value.GetProperty("id").GetString()!);
        Assert.Equal("succeeded", dry.GetProperty("status").GetString());
        Assert.Equal(1, dry.GetProperty("manifestsRemoved").GetInt32());
        Assert.Equal(2, dry.GetProperty("blobsRemoved").GetInt32());
        Assert.Equal("admin", dry.GetProperty("requestedBy").GetString());
        using (var stillThere = await oci.SendAsync(HttpMethod.Get, $"/v2/{repository}/manifests/{oldDigest}"))
            Assert.Equal(HttpStatusCode.OK, stillThere.StatusCode);

        (status, started) = await RegistryLogin.CallAsync(admin, HttpMethod.Post, "/api/v1/collector/runs", new { repository });
        Assert.Equal(HttpStatusCode.OK, status);
        var real = await WaitForEndAsync(admin, started!.Value.GetProperty("id").GetString()!);
        Assert.Equal(("succeeded", "Done", 1, 2), (real.GetProperty("status").GetString(), real.GetProperty("phase").GetString(),
            real.GetProperty("manifestsRemoved").GetInt32(), real.GetProperty("blobsRemoved").GetInt32()));
        Assert.True(real.GetProperty("bytesFreed").GetInt64() > 1024);
        using (var gone = await oci.SendAsync(HttpMethod.Get, $"/v2/{repository}/manifests/{oldDigest}"))
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);

        var (listed, history) = await RegistryLogin.CallAsync(admin, HttpMethod.Get, "/api/v1/collector/runs");
        Assert.Equal(HttpStatusCode.OK, listed);
        var runs = history!.Value.GetProperty("runs").EnumerateArray().ToList();
        Assert.Equal([false, true], runs.Take(2).Select(r => r.TryGetProperty("dryRun", out var d) && d.GetBoolean()).ToArray());

        // The audit log records the collection (eventually: it arrives through the outbox).
        for (var attempt = 0; ; attempt++)
        {
            var (_, entries) = await RegistryLogin.CallAsync(admin, HttpMethod.Get, $"/api/v1/auditlog/entries?kind=garbage_collection&repository={Uri.EscapeDataString(repository)}");
            if (entries!.Value.GetProperty("entries").GetArrayLength() == 2) break;
            Assert.True(attempt < 100, "the garbage_collection entries did not arrive");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task Only_superusers_collect_the_whole_registry_and_bad_requests_are_refused()
    {
        var admin = Admin();
        Assert.Equal(HttpStatusCode.OK, (await RegistryLogin.CallAsync(admin, HttpMethod.Post, "/api/v1/users", new { name = "erin", password = "erin-password-1" })).Status);
        var erin = RegistryLogin.WithBasic(Server.CreateClient(), "erin", "erin-password-1");
        Assert.Equal(HttpStatusCode.Forbidden, (await RegistryLogin.CallAsync(erin, HttpMethod.Post, "/api/v1/collector/runs", new { })).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await RegistryLogin.CallAsync(erin, HttpMethod.Post, "/api/v1/collector/runs", new { @namespace = "someoneelse" })).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await RegistryLogin.CallAsync(Server.CreateClient(), HttpMethod.Post, "/api/v1/collector/runs", new { })).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await RegistryLogin.CallAsync(admin, HttpMethod.Get, "/api/v1/collector/runs/not-an-id")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await RegistryLogin.CallAsync(admin, HttpMethod.Get, $"/api/v1/collector/runs/{Guid.NewGuid()}")).Status);

        // A user administers their own namespace.
        var (status, started) = await RegistryLogin.CallAsync(erin, HttpMethod.Post, "/api/v1/collector/runs", new { @namespace = "erin", dryRun = true });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("succeeded", (await WaitForEndAsync(erin, started!.Value.GetProperty("id").GetString()!)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_run_cut_off_by_a_crash_is_resumed_at_the_next_start()
    {
        var oci = new OciClient(Server.CreateClient());
        var repository = OciClient.NewRepository("resume");
        var (_, oldDigest) = await oci.PushImageAsync(repository, "latest");
        await oci.PushImageAsync(repository, "latest");
        await Task.Delay(TimeSpan.FromSeconds(1.3));
        // What a process killed mid-run leaves: its row still "running", and in the registry the
        // tally of what its committed batches removed, ahead of the figures the row last saved.
        var id = Guid.NewGuid();
        await Server.App.Services.GetRequiredService<CollectorDb>().WriteAsync(db =>
        {
            db.Runs.Add(new CollectionRun
            {
                Id = id, Repository = repository, Status = CollectionRun.Running, Phase = "PruneTagHistory",
                RequestedBy = "admin", StartedAt = DateTime.UtcNow,
            });
            return db.SaveChangesAsync();
        }, CancellationToken.None);
        await Server.App.Services.GetRequiredService<RegistryDb>().WriteAsync(db =>
        {
            db.CollectionTallies.Add(new CollectionTallyRow { RunId = id, StartedAt = DateTime.UtcNow, TagHistoryPruned = 1 });
            return db.SaveChangesAsync();
        }, CancellationToken.None);
        await Server.DisposeAsync();
        _server = await BerthHosts.StartServerAsync(_data.Path, Args);

        var run = await WaitForEndAsync(Admin(), id.ToString());
        Assert.Equal(("succeeded", 1), (run.GetProperty("status").GetString(), run.GetProperty("resumes").GetInt32()));
        Assert.Equal(2, run.GetProperty("tagHistoryPruned").GetInt32());
        Assert.Equal(1, run.GetProperty("manifestsRemoved").GetInt32());
        using var gone = await new OciClient(Server.CreateClient()).SendAsync(HttpMethod.Get, $"/v2/{repository}/manifests/{oldDigest}");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        await using var check = Server.App.Services.GetRequiredService<CollectorDb>().Open();
        Assert.False(await check.Runs.AnyAsync(r => r.Status == CollectionRun.Running));
        await using var registry = Server.App.Services.GetRequiredService<RegistryDb>().Open();
        Assert.False(await registry.CollectionTallies.AnyAsync(t => t.RunId == id), "a finished run's tally is dropped");
    }

    [Fact]
    public async Task A_time_machine_window_outside_the_allowed_set_stops_the_start_with_a_clear_error()
    {
        using var data = new TempDirectory("berth-collector-bad");
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            BerthHosts.StartServerAsync(data.Path, "--Collector:TimeMachineWindows:acme", "3.00:00:00"));
        Assert.Contains("acme=3.00:00:00", error.Message);
    }
}
