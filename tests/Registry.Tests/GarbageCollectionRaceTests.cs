using System.Diagnostics;
using System.Collections.Concurrent;
using System.Net;
using Berth.Registry.Collection;
using Berth.Registry.Data;
using Berth.Registry.Storage;
using Berth.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Registry.Tests;

/// <summary>
/// Pushers that keep re-using the same layers (checking each with HEAD and
/// uploading only what is missing, as container clients do), untagging as they
/// go, while collections run back to back with no time-machine window. Every
/// push that reaches its manifest PUT within half the grace period (what the
/// protocol promises) must succeed, every surviving tag must pull completely and verify, and
/// once the grace period has passed a last collection leaves no blob that
/// nothing references and no file without a row. Re-pushers meanwhile PUT
/// manifests pushed earlier straight away, without checking their blobs first:
/// they must get 201 or a clean MANIFEST_BLOB_UNKNOWN, never a 201 for a
/// manifest whose blobs then vanish. BERTH_GC_RACE_SECONDS makes it run longer
/// (the default keeps CI short).
/// </summary>
public abstract class GarbageCollectionRaceTests
{
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(3);
    private const int Pushers = 6;
    private const int RePushers = 2;
    private const int SharedLayers = 10;

    protected static string[] ServerArgs => ["--Registry:GracePeriod", Grace.ToString()];

    protected abstract RunningApp Server();

    protected abstract string DataDirectory { get; }

    private static TimeSpan Duration =>
        TimeSpan.FromSeconds(int.TryParse(Environment.GetEnvironmentVariable("BERTH_GC_RACE_SECONDS"), out var seconds) ? seconds : 20);

    [SkippableFact]
    public async Task Pushes_racing_collections_lose_nothing_and_leave_no_garbage()
    {
        var server = Server();
        var collector = server.App.Services.GetRequiredService<GarbageCollector>();
        var layers = Enumerable.Range(0, SharedLayers).Select(_ => OciClient.RandomBytes(4096)).ToArray();
        var live = new ConcurrentDictionary<(string Repository, string Tag), byte[]>();
        var failures = new ConcurrentQueue<string>();
        var pushed = new ConcurrentQueue<(string Repository, byte[] Manifest)>();
        var refused = 0;
        var late = 0;
        using var stop = new CancellationTokenSource(Duration);
        var collections = 0;
        var removedBlobs = 0;

        var collecting = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var report = await collector.RunAsync(new CollectionRequest(Guid.NewGuid(), CollectionScope.All, false, _ => TimeSpan.Zero, TimeSpan.FromDays(1)),
                    _ => Task.CompletedTask, CancellationToken.None);
                collections++;
                removedBlobs += report.BlobsRemoved;
            }
        });
        var pushing = Enumerable.Range(0, Pushers).Select(p => Task.Run(async () =>
        {
            var oci = new OciClient(server.CreateClient());
            var repository = $"race/pusher{p}";
            for (var round = 0; !stop.IsCancellationRequested; round++)
            {
                var tag = $"t{round % 4}";
                try
                {
                    var began = Stopwatch.GetTimestamp();
                    var manifest = await PushAsync(oci, repository, [.. Random.Shared.GetItems(layers, 3).Distinct()]);
                    live[(repository, tag)] = manifest;
                    using var put = await oci.PutManifestAsync(repository, tag, manifest, OciClient.OciManifestType);
                    var took = Stopwatch.GetElapsedTime(began);
                    if (put.StatusCode == HttpStatusCode.Created) pushed.Enqueue((repository, manifest));
                    else
                    {
                        live.TryRemove((repository, tag), out _);
                        var body = await put.Content.ReadAsStringAsync();
                        // The protocol keeps what a push uploaded or was told it has for half the grace
                        // period; a push slower than that (a loaded machine) may lose a blob by design.
                        if (took > Grace / 2 && body.Contains("MANIFEST_BLOB_UNKNOWN", StringComparison.Ordinal)) Interlocked.Increment(ref late);
                        else failures.Enqueue($"{repository}:{tag} {(int)put.StatusCode} after {took.TotalMilliseconds:F0} ms {body}");
                    }
                    if (round % 3 == 2)
                    {
                        // Untag an older one: its image becomes garbage for the collector.
                        var old = $"t{(round + 2) % 4}";
                        if (live.TryRemove((repository, old), out _))
                            using (await oci.SendAsync(HttpMethod.Delete, $"/v2/{repository}/manifests/{old}")) { }
                    }
                }
                catch (Exception e)
                {
                    failures.Enqueue($"{repository}:{tag} {e.Message}");
                }
            }
        })).ToList();
        pushing.AddRange(Enumerable.Range(0, RePushers).Select(r => Task.Run(async () =>
        {
            var oci = new OciClient(server.CreateClient());
            for (var round = 0; !stop.IsCancellationRequested; round++)
            {
                var earlier = pushed.ToArray();
                if (earlier.Length == 0)
                {
                    await Task.Delay(50);
                    continue;
                }
                var (repository, manifest) = earlier[Random.Shared.Next(earlier.Length)];
                var tag = $"re{r}-{round % 2}";
                using var put = await oci.PutManifestAsync(repository, tag, manifest, OciClient.OciManifestType);
                if (put.StatusCode == HttpStatusCode.Created) live[(repository, tag)] = manifest;
                else if (put.StatusCode == HttpStatusCode.BadRequest && (await OciClient.ErrorCodesAsync(put)).Contains("MANIFEST_BLOB_UNKNOWN")) Interlocked.Increment(ref refused);
                else failures.Enqueue($"re-push {repository}:{tag} {(int)put.StatusCode} {await put.Content.ReadAsStringAsync()}");
            }
        })));
        await Task.WhenAll(pushing);
        await collecting;

        Assert.True(failures.IsEmpty, $"{late} pushes slower than half the grace period lost a blob as allowed; these broke the protocol:\n" + string.Join("\n", failures.Take(10)));
        Assert.True(late < pushed.Count, $"{late} pushes were too slow to judge, only {pushed.Count} succeeded");
        Assert.True(collections >= 3, $"only {collections} collections ran");
        Assert.True(removedBlobs > 0, "the collections never removed a blob, so nothing raced");
        Assert.True(refused > 0, "no re-push was refused, so none raced a collection");

        var verifier = new OciClient(server.CreateClient());
        foreach (var ((repository, tag), manifest) in live)
        {
            using var response = await verifier.SendAsync(HttpMethod.Get, $"/v2/{repository}/manifests/{tag}", configure: r => r.Headers.Accept.ParseAdd(OciClient.OciManifestType));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(OciClient.Sha256(manifest), OciClient.Sha256(await response.Content.ReadAsByteArrayAsync()));
            foreach (var blob in GarbageCollectionTests.LayerAndConfig(manifest))
            {
                using var blobResponse = await verifier.SendAsync(HttpMethod.Get, $"/v2/{repository}/blobs/{blob}");
                Assert.True(blobResponse.StatusCode == HttpStatusCode.OK, $"{repository}:{tag} lost {blob}");
                Assert.Equal(blob, OciClient.Sha256(await blobResponse.Content.ReadAsByteArrayAsync()));
            }
        }

        await Task.Delay(Grace + TimeSpan.FromSeconds(1));
        await collector.RunAsync(new CollectionRequest(Guid.NewGuid(), CollectionScope.All, false, _ => TimeSpan.Zero, TimeSpan.FromDays(1)),
            _ => Task.CompletedTask, CancellationToken.None);
        await AssertNoGarbageAsync(server);
    }

    /// <summary>Uploads what HEAD says is missing, then returns a manifest over the layers and a fresh config.</summary>
    private static async Task<byte[]> PushAsync(OciClient oci, string repository, byte[][] layers)
    {
        var descriptors = new List<(string Digest, long Size)>();
        foreach (var layer in layers)
        {
            var digest = OciClient.Sha256(layer);
            using var head = await oci.SendAsync(HttpMethod.Head, $"/v2/{repository}/blobs/{digest}");
            if (head.StatusCode != HttpStatusCode.OK) await oci.PushBlobAsync(repository, layer);
            descriptors.Add((digest, layer.Length));
        }
        var config = System.Text.Encoding.UTF8.GetBytes($$"""{"nonce":"{{Guid.NewGuid()}}"}""");
        var configDigest = await oci.PushBlobAsync(repository, config);
        return OciClient.ImageManifest(configDigest, config.Length, descriptors);
    }

    private async Task AssertNoGarbageAsync(RunningApp server)
    {
        await using var db = server.App.Services.GetRequiredService<RegistryDb>().Open();
        var unreferenced = await db.Blobs.Where(b => !db.ManifestBlobs.Any(r => r.Digest == b.Digest)).Select(b => b.Digest).ToListAsync();
        Assert.True(unreferenced.Count == 0, "unreferenced blobs left: " + string.Join(", ", unreferenced.Take(5)));
        var rows = (await db.Blobs.Select(b => b.Digest).ToListAsync()).ToHashSet();
        var files = new HashSet<string>();
        await foreach (var file in server.App.Services.GetRequiredService<IBlobStore>().ListAsync(CancellationToken.None)) files.Add(file.Key.ToString());
        Assert.Empty(files.Except(rows));
        Assert.Empty(rows.Except(files));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(DataDirectory, "storage", "trash")));
    }
}

/// <summary>The race on the embedded default: SQLite's write gate serializes the checks.</summary>
public sealed class SqliteGarbageCollectionRaceTests : GarbageCollectionRaceTests, IAsyncLifetime
{
    private readonly TempDirectory _data = new("berth-gcrace");
    private RunningApp? _server;

    protected override RunningApp Server() => _server!;

    protected override string DataDirectory => _data.Path;

    public async Task InitializeAsync() => _server = await BerthHosts.StartServerAsync(_data.Path, ServerArgs);

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        _data.Dispose();
    }
}

/// <summary>The race on PostgreSQL, where writers run concurrently and the advisory locks decide.</summary>
public sealed class PostgresGarbageCollectionRaceTests : GarbageCollectionRaceTests, IAsyncLifetime
{
    private readonly TempDirectory _data = new("berth-gcrace-pg");
    private TemporaryPostgresDatabase? _database;
    private RunningApp? _server;

    protected override RunningApp Server()
    {
        RequiredServer.Require(_server is not null, "PostgreSQL is not configured: set BERTH_TEST_POSTGRES to a connection string (.ci/run starts one)");
        return _server!;
    }

    protected override string DataDirectory => _data.Path;

    public async Task InitializeAsync()
    {
        var admin = Environment.GetEnvironmentVariable("BERTH_TEST_POSTGRES");
        if (string.IsNullOrEmpty(admin)) return;
        _database = await TemporaryPostgresDatabase.CreateAsync(admin);
        _server = await BerthHosts.StartServerAsync(_data.Path,
            ["--Registry:DatabaseProvider", "postgres", "--Registry:ConnectionString", _database.ConnectionString, .. ServerArgs]);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        if (_database is not null) await _database.DisposeAsync();
        _data.Dispose();
    }
}
