using System.Collections.Concurrent;
using Berth.Contracts;
using Berth.Contracts.Registry;
using Berth.Data.Outbox;
using Berth.Registry.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Registry.Tests;

/// <summary>Registry changes publish their events through the outbox, written in the same transaction as the change.</summary>
public sealed class RegistryEventsTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task Push_move_and_delete_publish_their_events_in_order()
    {
        var received = new ConcurrentQueue<IntegrationEvent>();
        using var subscription = Listen(fixture.Server, received);
        var client = new OciClient(fixture.CreateClient());
        var repository = OciClient.NewRepository("events");

        var first = await client.NewImageManifestAsync(repository);
        var firstDigest = await client.PutManifestCreatedAsync(repository, "v1", first, OciClient.OciManifestType);
        var second = await client.NewImageManifestAsync(repository);
        var secondDigest = await client.PutManifestCreatedAsync(repository, "v1", second, OciClient.OciManifestType);
        // Pushing the same manifest under the same tag again changes no tag.
        await client.PutManifestCreatedAsync(repository, "v1", second, OciClient.OciManifestType);
        using (await client.SendAsync(HttpMethod.Delete, $"/v2/{repository}/manifests/v1")) { }
        using (await client.SendAsync(HttpMethod.Delete, $"/v2/{repository}/manifests/{firstDigest}")) { }

        // Four blob uploads (two configs, two layers) come too; their own test checks them.
        var mine = (await WaitForAsync(received, repository, 7 + 4)).Where(e => e is not BlobUploaded).ToList();
        Assert.Collection(mine,
            e => Assert.Equal(repository, Assert.IsType<RepositoryCreated>(e).Repository),
            e => Assert.Equal((firstDigest, "v1"), (Assert.IsType<ManifestPushed>(e).Digest, ((ManifestPushed)e).Tags.Single())),
            e => Assert.Equal(firstDigest, Assert.IsType<TagCreated>(e).Digest),
            e => Assert.Equal(secondDigest, Assert.IsType<ManifestPushed>(e).Digest),
            e => Assert.Equal((secondDigest, firstDigest), (Assert.IsType<TagMoved>(e).Digest, ((TagMoved)e).PreviousDigest)),
            e => Assert.IsType<ManifestPushed>(e),
            e => Assert.Equal((secondDigest, "v1"), (Assert.IsType<TagDeleted>(e).Digest, ((TagDeleted)e).Tag)),
            e => Assert.Equal(firstDigest, Assert.IsType<ManifestDeleted>(e).Digest));
        var pushed = mine.OfType<ManifestPushed>().First();
        Assert.Single(pushed.Layers);
        Assert.True(pushed.Size > 0);
        Assert.Equal("anonymous", pushed.Actor.Name);
        Assert.False(string.IsNullOrEmpty(pushed.Actor.Address));

        // Every event left the outbox and was marked sent.
        await using var db = fixture.Server.App.Services.GetRequiredService<RegistryDb>().Open();
        var ids = mine.Select(e => e.EventId).ToList();
        Assert.Equal(ids.Count, await db.Set<OutboxMessage>().CountAsync(m => ids.Contains(m.Id) && m.SentAt != null));
    }

    [Fact]
    public async Task Blob_uploads_deletions_and_digest_mismatches_publish_their_events()
    {
        var received = new ConcurrentQueue<IntegrationEvent>();
        using var subscription = Listen(fixture.Server, received);
        var client = new OciClient(fixture.CreateClient());
        var repository = OciClient.NewRepository("blobevents");
        var content = OciClient.RandomBytes(1000);
        var digest = await client.PushBlobAsync(repository, content);
        using (var mismatch = await client.SendAsync(HttpMethod.Post, $"/v2/{repository}/blobs/uploads/?digest={OciClient.Sha256([1, 2, 3])}", [4, 5, 6]))
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, mismatch.StatusCode);
        using (await client.SendAsync(HttpMethod.Delete, $"/v2/{repository}/blobs/{digest}")) { }

        var mine = await WaitForAsync(received, repository, 3);
        var uploaded = Assert.Single(mine.OfType<BlobUploaded>());
        Assert.Equal((digest, 1000L), (uploaded.Digest, uploaded.Size));
        var failed = Assert.Single(mine.OfType<UploadFailed>());
        Assert.Equal((OciClient.Sha256([1, 2, 3]), OciClient.Sha256([4, 5, 6])), (failed.ClaimedDigest, failed.ActualDigest));
        Assert.Equal(digest, Assert.Single(mine.OfType<BlobDeleted>()).Digest);
    }

    [Fact]
    public async Task A_refused_push_publishes_nothing()
    {
        var received = new ConcurrentQueue<IntegrationEvent>();
        using var subscription = Listen(fixture.Server, received);
        var client = new OciClient(fixture.CreateClient());
        var repository = OciClient.NewRepository("refused");
        var missingBlob = System.Text.Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"mediaType":"{{OciClient.OciManifestType}}","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:{{new string('0', 64)}}","size":2},"layers":[]}""");
        using var response = await client.PutManifestAsync(repository, "v1", missingBlob, OciClient.OciManifestType);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        await Task.Delay(300);
        Assert.DoesNotContain(received, e => e is ManifestPushed p && p.Repository == repository);
        Assert.DoesNotContain(received, e => e is TagCreated t && t.Repository == repository);
    }

    [Fact]
    public async Task Manifest_gets_publish_one_pull_event_each_and_heads_publish_none()
    {
        var received = new ConcurrentQueue<IntegrationEvent>();
        using var subscription = Listen(fixture.Server, received);
        var client = new OciClient(fixture.CreateClient());
        var repository = OciClient.NewRepository("pulls");
        var manifest = await client.NewImageManifestAsync(repository);
        var digest = await client.PutManifestCreatedAsync(repository, "v1", manifest, OciClient.OciManifestType);

        using (var head = await client.SendAsync(HttpMethod.Head, $"/v2/{repository}/manifests/v1")) Assert.True(head.IsSuccessStatusCode);
        using (var missing = await client.SendAsync(HttpMethod.Get, $"/v2/{repository}/manifests/nosuchtag"))
            Assert.Equal(System.Net.HttpStatusCode.NotFound, missing.StatusCode);
        using (var byDigest = await client.SendAsync(HttpMethod.Get, $"/v2/{repository}/manifests/{digest}")) Assert.True(byDigest.IsSuccessStatusCode);
        // A burst of pulls: every one is recorded, in a few batched outbox writes rather than one per pull.
        await Task.WhenAll(Enumerable.Range(0, 300).Select(async _ =>
        {
            using var get = await client.SendAsync(HttpMethod.Get, $"/v2/{repository}/manifests/v1");
            Assert.True(get.IsSuccessStatusCode);
        }));

        var pulls = await WaitForPullsAsync(received, repository, 301);
        Assert.Equal(301, pulls.Count);
        Assert.Equal(301, pulls.Select(p => p.EventId).Distinct().Count());
        Assert.All(pulls, p => Assert.Equal((digest, OciClient.OciManifestType), (p.Digest, p.MediaType)));
        Assert.Equal(300, pulls.Count(p => p.Tag == "v1"));
        Assert.Single(pulls, p => p.Tag is null);
        Assert.All(pulls, p => Assert.Equal("anonymous", p.Actor.Name));
        Assert.All(pulls, p => Assert.False(string.IsNullOrEmpty(p.Actor.Address)));
        await Task.Delay(500);
        Assert.Equal(301, Pulls(received).Count(p => p.Repository == repository));
        // Batched: far fewer messages than pulls.
        Assert.InRange(received.OfType<ManifestsPulled>().Count(b => b.Pulls.Any(p => p.Repository == repository)), 1, 30);
    }

    [Fact]
    public async Task With_pull_events_off_a_pull_publishes_nothing_and_pushes_still_do()
    {
        using var data = new Berth.TestSupport.TempDirectory("berth-nopulls");
        await using var server = await Berth.TestSupport.BerthHosts.StartServerAsync(data.Path, "--Registry:PullEvents", "false");
        var received = new ConcurrentQueue<IntegrationEvent>();
        using var subscription = Listen(server, received);
        var client = new OciClient(server.CreateClient());
        var repository = OciClient.NewRepository("nopulls");
        var manifest = await client.NewImageManifestAsync(repository);
        await client.PutManifestCreatedAsync(repository, "v1", manifest, OciClient.OciManifestType);
        for (var i = 0; i < 5; i++)
            using (var get = await client.SendAsync(HttpMethod.Get, $"/v2/{repository}/manifests/v1")) Assert.True(get.IsSuccessStatusCode);

        // Created, two blobs, the manifest and its tag: waiting for all five keeps the check from racing the outbox.
        await WaitForAsync(received, repository, 4);
        Assert.Contains(received, e => e is ManifestPushed p && p.Repository == repository);
        await Task.Delay(800);
        Assert.DoesNotContain(received, e => e is ManifestsPulled);
    }

    private static IDisposable Listen(Berth.TestSupport.RunningApp server, ConcurrentQueue<IntegrationEvent> received) =>
        server.App.Services.GetRequiredService<InProcessEventBus>().Subscribe((e, _) => { received.Enqueue(e); return Task.CompletedTask; });

    private static IEnumerable<ManifestPulled> Pulls(ConcurrentQueue<IntegrationEvent> received) =>
        received.OfType<ManifestsPulled>().SelectMany(b => b.Pulls);

    private static async Task<List<ManifestPulled>> WaitForPullsAsync(ConcurrentQueue<IntegrationEvent> received, string repository, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        List<ManifestPulled> pulls;
        do
        {
            pulls = [.. Pulls(received).Where(p => p.Repository == repository)];
            if (pulls.Count >= count) return pulls;
            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);
        return pulls;
    }

    private static async Task<List<IntegrationEvent>> WaitForAsync(ConcurrentQueue<IntegrationEvent> received, string repository, int atLeast)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        List<IntegrationEvent> mine;
        do
        {
            mine = [.. received.Where(e => System.Text.Json.JsonSerializer.Serialize(e, e.GetType()).Contains(repository, StringComparison.Ordinal))];
            if (mine.Count > atLeast) return mine;
            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);
        return mine;
    }
}
