using System.Net;
using System.Text;
using System.Text.Json;
using Berth.Registry.Collection;
using Berth.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Registry.Tests;

/// <summary>A Server whose namespace "nowindow" has no time-machine window (every other namespace has the default two weeks).</summary>
public sealed class TimeMachineServerFixture() : ConfiguredServerFixture("berth-timemachine",
    "--Collector:TimeMachineWindows:nowindow", "00:00:00", "--Registry:GracePeriod", "00:00:01");

/// <summary>Restoring tags within the window, expiring them by API and by label, and deleting them for good.</summary>
public sealed class TimeMachineTests(TimeMachineServerFixture fixture) : IClassFixture<TimeMachineServerFixture>
{
    private readonly OciClient _oci = new(fixture.Server.CreateClient());

    private async Task<string?> DigestOfTagAsync(string repository, string tag)
    {
        using var response = await _oci.SendAsync(HttpMethod.Get, $"/v2/{repository}/manifests/{tag}", configure: r => r.Headers.Accept.ParseAdd(OciClient.OciManifestType));
        return response.StatusCode == HttpStatusCode.OK ? OciClient.Header(response, "Docker-Content-Digest") : null;
    }

    private Task<(HttpStatusCode Status, JsonElement? Body)> RestoreAsync(string repository, string tag, string digest) =>
        RegistryLogin.CallAsync(_oci.Http, HttpMethod.Post, $"/api/v1/tags/{repository}", new { tag, manifestDigest = digest });

    private Task<(HttpStatusCode Status, JsonElement? Body)> ExpireAsync(string repository, string tag, DateTime at) =>
        RegistryLogin.CallAsync(_oci.Http, HttpMethod.Put, $"/api/v1/tags/{repository}", new { tag, expiresAt = at.ToString("O") });

    [Fact]
    public async Task A_moved_or_deleted_tag_is_restored_within_the_window()
    {
        var repository = OciClient.NewRepository("tm");
        var (_, first) = await _oci.PushImageAsync(repository, "v1");
        var (_, second) = await _oci.PushImageAsync(repository, "v1");
        Assert.Equal(second, await DigestOfTagAsync(repository, "v1"));

        var (status, body) = await RestoreAsync(repository, "v1", first);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(first, body!.Value.GetProperty("manifestDigest").GetString());
        Assert.Equal(first, await DigestOfTagAsync(repository, "v1"));

        Assert.Equal(HttpStatusCode.Accepted, (await _oci.SendAsync(HttpMethod.Delete, $"/v2/{repository}/manifests/v1")).StatusCode);
        Assert.Null(await DigestOfTagAsync(repository, "v1"));
        Assert.Equal(HttpStatusCode.OK, (await RestoreAsync(repository, "v1", second)).Status);
        Assert.Equal(second, await DigestOfTagAsync(repository, "v1"));
        Assert.Contains("v1", await _oci.ListTagsAsync(repository));
    }

    [Fact]
    public async Task Outside_the_window_there_is_nothing_to_restore_and_bad_requests_are_refused()
    {
        var repository = "nowindow/" + Guid.NewGuid().ToString("N");
        var (_, first) = await _oci.PushImageAsync(repository, "v1");
        await _oci.PushImageAsync(repository, "v1");
        var (status, _) = await RestoreAsync(repository, "v1", first);
        Assert.Equal(HttpStatusCode.NotFound, status);

        var elsewhere = OciClient.NewRepository("tm");
        await _oci.PushImageAsync(elsewhere, "v1");
        // A digest the tag never pointed at, a malformed digest, a malformed tag, an unknown repository.
        Assert.Equal(HttpStatusCode.NotFound, (await RestoreAsync(elsewhere, "v1", first)).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await RestoreAsync(elsewhere, "v1", "sha256:nothex")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await RestoreAsync(elsewhere, "-bad", first)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await RestoreAsync("tm/unknown" + Guid.NewGuid().ToString("N"), "v1", first)).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await ExpireAsync(elsewhere, "v1", DateTime.UtcNow.AddMinutes(-1))).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await ExpireAsync(elsewhere, "nosuchtag", DateTime.UtcNow.AddMinutes(1))).Status);
        Assert.NotNull(await DigestOfTagAsync(elsewhere, "v1"));
    }

    [Fact]
    public async Task A_namespace_admin_chooses_the_window_from_the_allowed_ones()
    {
        var admin = RegistryLogin.WithBasic(fixture.Server.CreateClient(), "admin", BerthHosts.AdminPassword);
        var @namespace = "tmwindow" + Guid.NewGuid().ToString("N")[..8];
        var (got, before) = await RegistryLogin.CallAsync(admin, HttpMethod.Get, $"/api/v1/collector/timemachine/{@namespace}");
        Assert.Equal(HttpStatusCode.OK, got);
        Assert.Equal(14 * 86400, before!.Value.GetProperty("windowSeconds").GetInt64());

        var repository = $"{@namespace}/app";
        var (_, first) = await _oci.PushImageAsync(repository, "v1");
        await _oci.PushImageAsync(repository, "v1");
        var (set, after) = await RegistryLogin.CallAsync(admin, HttpMethod.Put, $"/api/v1/collector/timemachine/{@namespace}", new { window = "0s" });
        Assert.Equal(HttpStatusCode.OK, set);
        Assert.False(after!.Value.TryGetProperty("windowSeconds", out var seconds) && seconds.GetInt64() != 0);
        // With no window, the old target can no longer be restored.
        Assert.Equal(HttpStatusCode.NotFound, (await RestoreAsync(repository, "v1", first)).Status);
        Assert.Equal(HttpStatusCode.OK, (await RegistryLogin.CallAsync(admin, HttpMethod.Put, $"/api/v1/collector/timemachine/{@namespace}", new { window = "1w" })).Status);
        Assert.Equal(HttpStatusCode.OK, (await RestoreAsync(repository, "v1", first)).Status);

        Assert.Equal(HttpStatusCode.BadRequest, (await RegistryLogin.CallAsync(admin, HttpMethod.Put, $"/api/v1/collector/timemachine/{@namespace}", new { window = "3d" })).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await RegistryLogin.CallAsync(admin, HttpMethod.Put, $"/api/v1/collector/timemachine/{@namespace}", new { window = "forever" })).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await RegistryLogin.CallAsync(fixture.Server.CreateClient(), HttpMethod.Put, $"/api/v1/collector/timemachine/{@namespace}", new { window = "1d" })).Status);
    }

    [Fact]
    public async Task A_tag_expires_when_the_api_says_and_stays_restorable()
    {
        var repository = OciClient.NewRepository("tmexpire");
        var (_, digest) = await _oci.PushImageAsync(repository, "nightly");
        var (status, body) = await ExpireAsync(repository, "nightly", DateTime.UtcNow.AddSeconds(2));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(body!.Value.TryGetProperty("expiresAt", out _));
        Assert.Equal(digest, await DigestOfTagAsync(repository, "nightly"));

        await Task.Delay(TimeSpan.FromSeconds(2.5));
        Assert.Null(await DigestOfTagAsync(repository, "nightly"));
        Assert.DoesNotContain("nightly", await _oci.ListTagsAsync(repository));
        // Ended (by the watcher, or now) at the moment it expired, with its history kept.
        await fixture.Server.App.Services.GetRequiredService<GarbageCollector>().ExpireDueTagsAsync(CancellationToken.None);
        var history = await RegistryLogin.CallAsync(_oci.Http, HttpMethod.Get, $"/api/v1/tags/{repository}?includeHistory=true");
        var row = history.Body!.Value.GetProperty("tags")[0];
        Assert.False(row.TryGetProperty("live", out var live) && live.GetBoolean());
        Assert.Equal(row.GetProperty("expiresAt").GetDateTime(), row.GetProperty("endedAt").GetDateTime());

        Assert.Equal(HttpStatusCode.OK, (await RestoreAsync(repository, "nightly", digest)).Status);
        Assert.Equal(digest, await DigestOfTagAsync(repository, "nightly"));
    }

    [Fact]
    public async Task The_expires_after_label_sets_the_expiration_at_push_and_a_bad_value_is_refused()
    {
        var repository = OciClient.NewRepository("tmlabel");
        var manifest = await LabelledImageAsync(repository, "2s");
        var digest = await _oci.PutManifestCreatedAsync(repository, "ci-build", manifest, OciClient.OciManifestType);
        Assert.Equal(digest, await DigestOfTagAsync(repository, "ci-build"));
        var history = await RegistryLogin.CallAsync(_oci.Http, HttpMethod.Get, $"/api/v1/tags/{repository}");
        var expires = history.Body!.Value.GetProperty("tags")[0].GetProperty("expiresAt").GetDateTime();
        Assert.InRange(expires, DateTime.UtcNow.AddSeconds(-1), DateTime.UtcNow.AddSeconds(3));
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        Assert.Null(await DigestOfTagAsync(repository, "ci-build"));

        var bad = await LabelledImageAsync(repository, "two weeks");
        using var refused = await _oci.PutManifestAsync(repository, "bad", bad, OciClient.OciManifestType);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("MANIFEST_INVALID", await OciClient.ErrorCodesAsync(refused));
        Assert.Null(await DigestOfTagAsync(repository, "bad"));
    }

    [Fact]
    public async Task A_permanently_deleted_tag_cannot_be_restored_and_its_image_is_collected()
    {
        var repository = OciClient.NewRepository("tmpermanent");
        var (manifest, digest) = await _oci.PushImageAsync(repository, "old");
        var (status, _) = await RegistryLogin.CallAsync(_oci.Http, HttpMethod.Delete, $"/api/v1/tags/{repository}?tag=old&permanently=true");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Null(await DigestOfTagAsync(repository, "old"));
        Assert.Equal(HttpStatusCode.NotFound, (await RestoreAsync(repository, "old", digest)).Status);

        await Task.Delay(TimeSpan.FromSeconds(1.3));
        var collector = fixture.Server.App.Services.GetRequiredService<GarbageCollector>();
        var windows = fixture.Server.App.Services.GetRequiredService<ITimeMachineWindows>();
        var report = await collector.RunAsync(new CollectionRequest(Guid.NewGuid(), new CollectionScope(Repository: repository), false, windows.WindowOf, TimeSpan.FromDays(1)),
            _ => Task.CompletedTask, CancellationToken.None);
        Assert.Equal((1, 2), (report.ManifestsRemoved, report.BlobsRemoved));
        Assert.All(GarbageCollectionTests.LayerAndConfig(manifest), b => Assert.False(File.Exists(OciClient.BlobFile(fixture.DataDirectory, b))));
    }

    /// <summary>An image whose config carries <c>quay.expires-after</c>; its blobs are pushed, the manifest is not.</summary>
    private async Task<byte[]> LabelledImageAsync(string repository, string expiresAfter)
    {
        var config = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
        {
            architecture = "amd64",
            os = "linux",
            config = new { Labels = new Dictionary<string, string> { ["quay.expires-after"] = expiresAfter } },
            rootfs = new { type = "layers", diff_ids = Array.Empty<string>() },
            nonce = Guid.NewGuid(),
        }));
        var layer = OciClient.RandomBytes(256);
        var configDigest = await _oci.PushBlobAsync(repository, config);
        var layerDigest = await _oci.PushBlobAsync(repository, layer);
        return OciClient.ImageManifest(configDigest, config.Length, [(layerDigest, layer.Length)]);
    }
}
