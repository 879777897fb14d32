using System.Net;
using System.Text.Json;
using Berth.Registry.Services;
using Berth.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Registry.Tests;

/// <summary>Retention (auto-prune) policies: each rule with its dry run, patterns, last-pull times, immutable tags, and bad input.</summary>
public sealed class RetentionTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly OciClient _oci = new(fixture.CreateClient());

    private HttpClient Admin() => RegistryLogin.WithBasic(fixture.CreateClient(), "admin", BerthHosts.AdminPassword);

    private static string NewNamespace(string prefix) => prefix + Guid.NewGuid().ToString("N")[..8];

    private async Task<long> CreatePolicyAsync(object policy)
    {
        var (status, body) = await RegistryLogin.CallAsync(Admin(), HttpMethod.Post, "/api/v1/collector/retention", policy);
        Assert.True(status == HttpStatusCode.OK, $"{status} {body}");
        return body!.Value.GetProperty("id").GetInt64();
    }

    private async Task<List<string>> PreviewAsync(long id)
    {
        var (status, body) = await RegistryLogin.CallAsync(Admin(), HttpMethod.Get, $"/api/v1/collector/retention/{id}/preview");
        Assert.Equal(HttpStatusCode.OK, status);
        return body!.Value.TryGetProperty("tags", out var tags)
            ? [.. tags.EnumerateArray().Select(t => $"{t.GetProperty("repository").GetString()}:{t.GetProperty("tag").GetString()}")]
            : [];
    }

    private async Task<JsonElement> CollectAsync(string @namespace, bool dryRun)
    {
        var admin = Admin();
        var (status, started) = await RegistryLogin.CallAsync(admin, HttpMethod.Post, "/api/v1/collector/runs", new { @namespace, dryRun });
        Assert.Equal(HttpStatusCode.OK, status);
        var id = started!.Value.GetProperty("id").GetString();
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var (_, run) = await RegistryLogin.CallAsync(admin, HttpMethod.Get, $"/api/v1/collector/runs/{id}");
            if (run!.Value.GetProperty("status").GetString() != "running") return run.Value;
            await Task.Delay(100);
        }
        throw new TimeoutException("the collection did not finish");
    }

    private static int TagsPruned(JsonElement run) => run.TryGetProperty("tagsPruned", out var pruned) ? pruned.GetInt32() : 0;

    [Fact]
    public async Task Keep_newest_prunes_the_older_tags_per_repository_after_a_dry_run_shows_them()
    {
        var @namespace = NewNamespace("keep");
        foreach (var repository in new[] { $"{@namespace}/a", $"{@namespace}/b" })
            foreach (var tag in new[] { "t1", "t2", "t3" })
                await _oci.PushImageAsync(repository, tag);
        var id = await CreatePolicyAsync(new { @namespace, keepNewest = 1 });

        Assert.Equal([$"{@namespace}/a:t1", $"{@namespace}/a:t2", $"{@namespace}/b:t1", $"{@namespace}/b:t2"], await PreviewAsync(id));
        var dry = await CollectAsync(@namespace, dryRun: true);
        Assert.Equal(4, TagsPruned(dry));
        Assert.Equal(["t1", "t2", "t3"], await _oci.ListTagsAsync($"{@namespace}/a"));

        var real = await CollectAsync(@namespace, dryRun: false);
        Assert.Equal(("succeeded", 4), (real.GetProperty("status").GetString(), TagsPruned(real)));
        Assert.Equal(["t3"], await _oci.ListTagsAsync($"{@namespace}/a"));
        Assert.Equal(["t3"], await _oci.ListTagsAsync($"{@namespace}/b"));
        Assert.Empty(await PreviewAsync(id));

        // The audit log records each prune (it arrives through the outbox).
        for (var attempt = 0; ; attempt++)
        {
            var (_, entries) = await RegistryLogin.CallAsync(Admin(), HttpMethod.Get, $"/api/v1/auditlog/entries?kind=autoprune_tag_delete&namespace={@namespace}");
            if (entries!.Value.GetProperty("entries").GetArrayLength() == 4) break;
            Assert.True(attempt < 100, "the autoprune_tag_delete entries did not arrive");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task Max_age_with_a_pattern_prunes_only_old_matching_tags_and_never_an_immutable_one()
    {
        var @namespace = NewNamespace("age");
        var repository = $"{@namespace}/app";
        foreach (var tag in new[] { "dev-1", "dev-2", "release-1" })
            await _oci.PushImageAsync(repository, tag);
        var (ruled, _) = await RegistryLogin.CallAsync(Admin(), HttpMethod.Post, "/api/v1/collector/immutability", new { @namespace, tagPattern = "dev-2" });
        Assert.Equal(HttpStatusCode.OK, ruled);
        await Task.Delay(TimeSpan.FromSeconds(1.2));
        await _oci.PushImageAsync(repository, "dev-3");
        var id = await CreatePolicyAsync(new { @namespace, tagPattern = "dev-.*", maxAge = "1s" });

        Assert.Equal([$"{repository}:dev-1"], await PreviewAsync(id));
        Assert.Equal(1, TagsPruned(await CollectAsync(@namespace, dryRun: false)));
        Assert.Equal(["dev-2", "dev-3", "release-1"], await _oci.ListTagsAsync(repository));
    }

    [Fact]
    public async Task Not_pulled_for_keeps_what_was_pulled_recently()
    {
        var @namespace = NewNamespace("pull");
        var repository = $"{@namespace}/app";
        var (_, pulledByDigest) = await _oci.PushImageAsync(repository, "by-digest");
        await _oci.PushImageAsync(repository, "by-tag");
        await _oci.PushImageAsync(repository, "idle");
        await Task.Delay(TimeSpan.FromSeconds(2.2));
        using (await _oci.SendAsync(HttpMethod.Get, $"/v2/{repository}/manifests/by-tag", configure: r => r.Headers.Accept.ParseAdd(OciClient.OciManifestType))) { }
        using (await _oci.SendAsync(HttpMethod.Get, $"/v2/{repository}/manifests/{pulledByDigest}", configure: r => r.Headers.Accept.ParseAdd(OciClient.OciManifestType))) { }
        await fixture.Server.App.Services.GetRequiredService<PullTimeWriter>().FlushAsync(CancellationToken.None);

        var id = await CreatePolicyAsync(new { @namespace, notPulledFor = "2s" });
        Assert.Equal([$"{repository}:idle"], await PreviewAsync(id));
    }

    [Fact]
    public async Task Bad_policies_are_refused_with_the_reason()
    {
        var admin = Admin();
        async Task<HttpStatusCode> Create(object policy) => (await RegistryLogin.CallAsync(admin, HttpMethod.Post, "/api/v1/collector/retention", policy)).Status;
        Assert.Equal(HttpStatusCode.BadRequest, await Create(new { @namespace = "x" }));
        Assert.Equal(HttpStatusCode.BadRequest, await Create(new { @namespace = "x", keepNewest = 3, maxAge = "1d" }));
        Assert.Equal(HttpStatusCode.BadRequest, await Create(new { @namespace = "x", maxAge = "a month" }));
        Assert.Equal(HttpStatusCode.BadRequest, await Create(new { @namespace = "x", keepNewest = -1 }));
        Assert.Equal(HttpStatusCode.BadRequest, await Create(new { @namespace = "x", keepNewest = 1, tagPattern = "(" }));
        Assert.Equal(HttpStatusCode.BadRequest, await Create(new { @namespace = "", keepNewest = 1 }));
        Assert.Equal(HttpStatusCode.NotFound, (await RegistryLogin.CallAsync(admin, HttpMethod.Get, "/api/v1/collector/retention/999999/preview")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await RegistryLogin.CallAsync(fixture.CreateClient(), HttpMethod.Post, "/api/v1/collector/retention", new { @namespace = "x", keepNewest = 1 })).Status);
    }
}
