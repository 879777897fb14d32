using System.Net;
using Berth.Registry.Collection;
using Berth.Registry.Data;
using Berth.Registry.Storage;
using Berth.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Registry.Tests;

/// <summary>A Server whose grace period is one second, so collections can be tested without waiting an hour.</summary>
public sealed class ShortGraceServerFixture() : ConfiguredServerFixture("berth-gc", "--Registry:GracePeriod", "00:00:01")
{
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(1);
}

/// <summary>What a collection removes, what it keeps, and that a dry run only reports.</summary>
public sealed class GarbageCollectionTests(ShortGraceServerFixture fixture) : IClassFixture<ShortGraceServerFixture>
{
    private readonly OciClient _oci = new(fixture.Server.CreateClient());
    private GarbageCollector Collector => fixture.Server.App.Services.GetRequiredService<GarbageCollector>();
    private RegistryDb Db => fixture.Server.App.Services.GetRequiredService<RegistryDb>();

    private static CollectionRequest Request(CollectionScope scope, bool dryRun = false, TimeSpan? window = null) =>
        new(Guid.NewGuid(), scope, dryRun, _ => window ?? TimeSpan.Zero, TimeSpan.FromDays(1));

    private Task<CollectionReport> CollectAsync(CollectionScope scope, bool dryRun = false, TimeSpan? window = null) =>
        Collector.RunAsync(Request(scope, dryRun, window), _ => Task.CompletedTask, CancellationToken.None);

    private static Task PastGraceAsync() => Task.Delay(ShortGraceServerFixture.Grace + TimeSpan.FromMilliseconds(300));

    private async Task<HttpStatusCode> StatusAsync(HttpMethod method, string url)
    {
        using var response = await _oci.SendAsync(method, url);
        return response.StatusCode;
    }

    private string BlobFile(string digest) => OciClient.BlobFile(fixture.DataDirectory, digest);

    [Fact]
    public async Task An_untagged_image_goes_with_its_blobs_and_the_tagged_one_stays_whole()
    {
        var repository = OciClient.NewRepository("gc");
        var (oldManifest, oldDigest) = await _oci.PushImageAsync(repository, "latest");
        var oldBlobs = LayerAndConfig(oldManifest);
        var (newManifest, _) = await _oci.PushImageAsync(repository, "latest");
        await PastGraceAsync();

        var dry = await CollectAsync(new CollectionScope(Repository: repository), dryRun: true);
        Assert.Equal((1, 1, 2, 2), (dry.TagHistoryPruned, dry.ManifestsRemoved, dry.BlobLinksRemoved, dry.BlobsRemoved));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(HttpMethod.Get, $"/v2/{repository}/manifests/{oldDigest}"));
        Assert.All(oldBlobs, b => Assert.True(File.Exists(BlobFile(b)), "a dry run deleted " + b));

        var report = await CollectAsync(new CollectionScope(Repository: repository));
        Assert.Equal((1, 1, 2, 2), (report.TagHistoryPruned, report.ManifestsRemoved, report.BlobLinksRemoved, report.BlobsRemoved));
        Assert.Equal(dry.BytesFreed, report.BytesFreed);
        Assert.True(report.BytesFreed > 1024);
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(HttpMethod.Get, $"/v2/{repository}/manifests/{oldDigest}"));
        Assert.All(oldBlobs, b => Assert.False(File.Exists(BlobFile(b)), "still on disk: " + b));
        foreach (var blob in oldBlobs) Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(HttpMethod.Head, $"/v2/{repository}/blobs/{blob}"));

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(HttpMethod.Get, $"/v2/{repository}/manifests/latest"));
        foreach (var blob in LayerAndConfig(newManifest))
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(HttpMethod.Get, $"/v2/{repository}/blobs/{blob}"));

        var again = await CollectAsync(new CollectionScope(Repository: repository));
        Assert.Equal((0, 0, 0, 0), (again.TagHistoryPruned, again.ManifestsRemoved, again.BlobLinksRemoved, again.BlobsRemoved));
    }

    [Fact]
    public async Task The_time_machine_window_keeps_a_deleted_tags_image_until_it_passes()
    {
        var repository = OciClient.NewRepository("gcwindow");
        var (manifest, digest) = await _oci.PushImageAsync(repository, "v1");
        Assert.Equal(HttpStatusCode.Accepted, await StatusAsync(HttpMethod.Delete, $"/v2/{repository}/manifests/v1"));
        await PastGraceAsync();

        var kept = await CollectAsync(new CollectionScope(Repository: repository), window: TimeSpan.FromHours(1));
        Assert.Equal(0, kept.ManifestsRemoved);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(HttpMethod.Get, $"/v2/{repository}/manifests/{digest}"));

        var gone = await CollectAsync(new CollectionScope(Repository: repository), window: TimeSpan.Zero);
        Assert.Equal((1, 1, 2), (gone.TagHistoryPruned, gone.ManifestsRemoved, gone.BlobsRemoved));
        Assert.All(LayerAndConfig(manifest), b => Assert.False(File.Exists(BlobFile(b))));
    }

    [Fact]
    public async Task An_index_keeps_its_children_while_tagged_and_takes_them_along_when_it_goes()
    {
        var repository = OciClient.NewRepository("gcindex");
        var children = new List<(string Digest, long Size, string Architecture)>();
        var childBlobs = new List<string>();
        foreach (var architecture in new[] { "amd64", "arm64" })
        {
            var manifest = await _oci.NewImageManifestAsync(repository);
            var digest = await _oci.PutManifestCreatedAsync(repository, OciClient.Sha256(manifest), manifest, OciClient.OciManifestType);
            children.Add((digest, manifest.Length, architecture));
            childBlobs.AddRange(LayerAndConfig(manifest));
        }
        var index = OciClient.ImageIndex(children);
        await _oci.PutManifestCreatedAsync(repository, "multi", index, OciClient.OciIndexType);
        await PastGraceAsync();

        var whileTagged = await CollectAsync(new CollectionScope(Repository: repository));
        Assert.Equal((0, 0), (whileTagged.ManifestsRemoved, whileTagged.BlobsRemoved));
        foreach (var child in children)
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(HttpMethod.Get, $"/v2/{repository}/manifests/{child.Digest}"));

        Assert.Equal(HttpStatusCode.Accepted, await StatusAsync(HttpMethod.Delete, $"/v2/{repository}/manifests/multi"));
        var dry = await CollectAsync(new CollectionScope(Repository: repository), dryRun: true);
        Assert.Equal((3, 4), (dry.ManifestsRemoved, dry.BlobsRemoved));
        var report = await CollectAsync(new CollectionScope(Repository: repository));
        Assert.Equal((3, 4), (report.ManifestsRemoved, report.BlobsRemoved));
        foreach (var child in children)
            Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(HttpMethod.Get, $"/v2/{repository}/manifests/{child.Digest}"));
        Assert.All(childBlobs, b => Assert.False(File.Exists(BlobFile(b))));
    }

    [Fact]
    public async Task A_referrer_stays_while_its_subject_exists()
    {
        var repository = OciClient.NewRepository("gcreferrer");
        var (_, subject) = await _oci.PushImageAsync(repository, "app");
        var signature = await _oci.NewImageManifestAsync(repository, subject: subject, artifactType: "application/vnd.example.signature");
        var signatureDigest = await _oci.PutManifestCreatedAsync(repository, OciClient.Sha256(signature), signature, OciClient.OciManifestType);
        await PastGraceAsync();

        Assert.Equal(0, (await CollectAsync(new CollectionScope(Repository: repository))).ManifestsRemoved);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(HttpMethod.Get, $"/v2/{repository}/manifests/{signatureDigest}"));

        Assert.Equal(HttpStatusCode.Accepted, await StatusAsync(HttpMethod.Delete, $"/v2/{repository}/manifests/app"));
        Assert.Equal(2, (await CollectAsync(new CollectionScope(Repository: repository))).ManifestsRemoved);
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(HttpMethod.Get, $"/v2/{repository}/manifests/{signatureDigest}"));
    }

    [Fact]
    public async Task A_blob_shared_with_another_repository_keeps_its_bytes()
    {
        var first = OciClient.NewRepository("gcshared");
        var second = OciClient.NewRepository("gcshared");
        var layer = OciClient.RandomBytes(2048);
        var layerDigest = await _oci.PushBlobAsync(first, layer);
        await _oci.PushBlobAsync(second, layer);
        var config = await _oci.PushBlobAsync(second, "{}"u8.ToArray());
        var manifest = OciClient.ImageManifest(config, 2, [(layerDigest, layer.Length)]);
        await _oci.PutManifestCreatedAsync(second, "keep", manifest, OciClient.OciManifestType);
        await PastGraceAsync();

        var report = await CollectAsync(new CollectionScope(Repository: first));
        Assert.Equal((1, 0), (report.BlobLinksRemoved, report.BlobsRemoved));
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(HttpMethod.Head, $"/v2/{first}/blobs/{layerDigest}"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(HttpMethod.Get, $"/v2/{second}/blobs/{layerDigest}"));
        Assert.True(File.Exists(BlobFile(layerDigest)));
    }

    [Fact]
    public async Task A_fresh_upload_is_safe_for_the_grace_period_and_a_checked_blob_is_renewed()
    {
        var repository = OciClient.NewRepository("gcgrace");
        var digest = await _oci.PushBlobAsync(repository, OciClient.RandomBytes(512));
        Assert.Equal(0, (await CollectAsync(new CollectionScope(Repository: repository))).BlobsRemoved);

        await PastGraceAsync();
        // A client checking the layer before it pushes a manifest: the check renews the link.
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(HttpMethod.Head, $"/v2/{repository}/blobs/{digest}"));
        Assert.Equal(0, (await CollectAsync(new CollectionScope(Repository: repository))).BlobsRemoved);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(HttpMethod.Get, $"/v2/{repository}/blobs/{digest}"));

        await PastGraceAsync();
        Assert.Equal(1, (await CollectAsync(new CollectionScope(Repository: repository))).BlobsRemoved);
        Assert.False(File.Exists(BlobFile(digest)));
    }

    [Fact]
    public async Task What_a_crash_left_behind_is_settled_by_the_next_run()
    {
        var repository = OciClient.NewRepository("gccrash");
        var (manifest, _) = await _oci.PushImageAsync(repository, "live");
        var live = LayerAndConfig(manifest)[1];
        var store = fixture.Server.App.Services.GetRequiredService<IBlobStore>();
        // A crash between trashing a blob and committing its row's deletion: the row is still there.
        Assert.True(await store.TrashAsync(Oci.Digest.Parse(live), CancellationToken.None));
        Assert.False(File.Exists(BlobFile(live)));
        // A crash after committing, before purging: the trash holds a blob without a row.
        var orphanInTrash = OciClient.RandomBytes(100);
        var orphanDigest = OciClient.Sha256(orphanInTrash);
        var trashFile = Path.Combine(fixture.DataDirectory, "storage", "trash", orphanDigest.Replace(':', '-'));
        await File.WriteAllBytesAsync(trashFile, orphanInTrash);
        // A crash between storing bytes and recording them: a file at an address with no row.
        var stray = OciClient.RandomBytes(300);
        var strayDigest = OciClient.Sha256(stray);
        var strayFile = BlobFile(strayDigest);
        Directory.CreateDirectory(Path.GetDirectoryName(strayFile)!);
        await File.WriteAllBytesAsync(strayFile, stray);
        File.SetLastWriteTimeUtc(strayFile, DateTime.UtcNow.AddHours(-2));

        var report = await CollectAsync(CollectionScope.All, window: TimeSpan.FromDays(1));
        Assert.True(report.TrashRecovered >= 2);
        Assert.True(File.Exists(BlobFile(live)), "the blob whose row survived is back at its address");
        Assert.False(File.Exists(trashFile));
        Assert.False(File.Exists(strayFile));
        Assert.True(report.OrphanFilesRemoved >= 1);
        using var response = await _oci.SendAsync(HttpMethod.Get, $"/v2/{repository}/blobs/{live}");
        Assert.Equal(live, OciClient.Sha256(await response.Content.ReadAsByteArrayAsync()));
    }

    [Fact]
    public async Task A_run_cut_off_after_a_batch_and_resumed_reports_what_all_its_attempts_removed()
    {
        var repository = OciClient.NewRepository("gcresume");
        var (oldManifest, _) = await _oci.PushImageAsync(repository, "latest");
        await _oci.PushImageAsync(repository, "latest");
        await PastGraceAsync();
        var request = Request(new CollectionScope(Repository: repository));

        // Cut off as a kill would: right after the blob batch committed, before anything recorded it.
        var cutOff = await Assert.ThrowsAsync<InvalidOperationException>(() => Collector.RunAsync(request,
            report => report.BlobsRemoved > 0 ? throw new InvalidOperationException("cut off") : Task.CompletedTask, CancellationToken.None));
        Assert.Equal("cut off", cutOff.Message);
        Assert.All(LayerAndConfig(oldManifest), b => Assert.False(File.Exists(BlobFile(b)), "the first attempt left " + b));

        var resumed = await Collector.RunAsync(request, _ => Task.CompletedTask, CancellationToken.None);
        Assert.Equal((1, 1, 2, 2), (resumed.TagHistoryPruned, resumed.ManifestsRemoved, resumed.BlobLinksRemoved, resumed.BlobsRemoved));
        Assert.Equal(BlobBytes(oldManifest), resumed.BytesFreed);
        var tallied = await Collector.RemovedSoFarAsync(request.RunId, CancellationToken.None);
        Assert.Equal((resumed.BlobsRemoved, resumed.BytesFreed), (tallied!.BlobsRemoved, tallied.BytesFreed));

        await Collector.ForgetTallyAsync(request.RunId, CancellationToken.None);
        Assert.Null(await Collector.RemovedSoFarAsync(request.RunId, CancellationToken.None));
    }

    [Fact]
    public async Task A_run_the_registry_keeps_no_tally_for_starts_from_the_figures_its_history_recorded()
    {
        var repository = OciClient.NewRepository("gcseed");
        var (oldManifest, _) = await _oci.PushImageAsync(repository, "latest");
        await _oci.PushImageAsync(repository, "latest");
        await PastGraceAsync();
        // An attempt cut off before the registry kept tallies: only the run's history has its figures.
        var request = Request(new CollectionScope(Repository: repository)) with
        {
            RecordedSoFar = new CollectionReport { ManifestsRemoved = 5, BlobsRemoved = 7, BytesFreed = 1000 },
        };

        var report = await Collector.RunAsync(request, _ => Task.CompletedTask, CancellationToken.None);
        Assert.Equal((6, 9, 1000 + BlobBytes(oldManifest)), (report.ManifestsRemoved, report.BlobsRemoved, report.BytesFreed));
        // Once the tally exists it is what counts: the history's figures seed it once, not at every attempt.
        var again = await Collector.RunAsync(request, _ => Task.CompletedTask, CancellationToken.None);
        Assert.Equal((6, 9), (again.ManifestsRemoved, again.BlobsRemoved));
        await Collector.ForgetTallyAsync(request.RunId, CancellationToken.None);
    }

    /// <summary>The config's and layers' sizes an OciClient-built manifest names.</summary>
    private static long BlobBytes(byte[] manifest)
    {
        using var document = System.Text.Json.JsonDocument.Parse(manifest);
        var root = document.RootElement;
        return root.GetProperty("config").GetProperty("size").GetInt64()
            + root.GetProperty("layers").EnumerateArray().Sum(l => l.GetProperty("size").GetInt64());
    }

    [Fact]
    public async Task Abandoned_uploads_are_removed()
    {
        var repository = OciClient.NewRepository("gcupload");
        var location = await _oci.StartUploadAsync(repository);
        using (await _oci.SendAsync(HttpMethod.Patch, location, OciClient.RandomBytes(100))) { }
        Assert.NotEmpty(OciClient.StagedUploads(fixture.DataDirectory));
        var request = Request(new CollectionScope(Repository: repository)) with { StaleUploadAge = TimeSpan.Zero };
        var report = await Collector.RunAsync(request, _ => Task.CompletedTask, CancellationToken.None);
        Assert.True(report.UploadsRemoved >= 1);
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(HttpMethod.Get, location));
        await using var db = Db.Open();
        Assert.False(await db.UploadSessions.AnyAsync(u => db.Repositories.Any(r => r.Id == u.RepositoryId && r.Name == repository)));
    }

    [Fact]
    public async Task An_expired_tag_ends_at_its_expiration_and_its_image_goes_when_the_window_passes()
    {
        var repository = OciClient.NewRepository("gcexpiry");
        var (manifest, digest) = await _oci.PushImageAsync(repository, "nightly");
        await Db.WriteAsync(db => db.Tags.Where(t => t.Name == "nightly" && db.Repositories.Any(r => r.Id == t.RepositoryId && r.Name == repository))
            .ExecuteUpdateAsync(u => u.SetProperty(t => t.ExpiresAt, DateTime.UtcNow.AddSeconds(-1))), CancellationToken.None);
        await PastGraceAsync();

        var report = await CollectAsync(new CollectionScope(Repository: repository), window: TimeSpan.FromHours(1));
        Assert.Equal((1, 0), (report.TagsExpired, report.ManifestsRemoved));
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(HttpMethod.Get, $"/v2/{repository}/manifests/nightly"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(HttpMethod.Get, $"/v2/{repository}/manifests/{digest}"));

        var later = await CollectAsync(new CollectionScope(Repository: repository), window: TimeSpan.Zero);
        Assert.Equal((0, 1, 1), (later.TagsExpired, later.TagHistoryPruned, later.ManifestsRemoved));
        Assert.All(LayerAndConfig(manifest), b => Assert.False(File.Exists(BlobFile(b))));
    }

    /// <summary>The config and layer digests an OciClient-built manifest names.</summary>
    internal static List<string> LayerAndConfig(byte[] manifest)
    {
        using var document = System.Text.Json.JsonDocument.Parse(manifest);
        var root = document.RootElement;
        return [root.GetProperty("config").GetProperty("digest").GetString()!,
            .. root.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("digest").GetString()!)];
    }
}
