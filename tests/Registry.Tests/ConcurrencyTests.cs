using System.Net;
using System.Text.Json;

namespace Berth.Registry.Tests;

/// <summary>Many clients pushing the same things at once: every one succeeds and the result is consistent.</summary>
public sealed class ConcurrencyTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private const int Parallel = 16;

    private readonly OciClient _oci = new(fixture.CreateClient());

    /// <summary>Runs <paramref name="work"/> <see cref="Parallel"/> times at once, released together.</summary>
    private static async Task<T[]> AllAtOnceAsync<T>(Func<int, Task<T>> work)
    {
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = Enumerable.Range(0, Parallel).Select(async i =>
        {
            await start.Task;
            return await work(i);
        }).ToArray();
        start.SetResult();
        return await Task.WhenAll(tasks);
    }

    private sealed record TagRow(string Name, string ManifestDigest, bool Live, string? EndedAt);

    private async Task<List<TagRow>> TagHistoryAsync(string repository)
    {
        using var response = await _oci.Http.GetAsync($"/api/v1/tags/{repository}?includeHistory=true&pageSize=1000");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var document = JsonDocument.Parse(body);
        return [.. document.RootElement.GetProperty("tags").EnumerateArray().Select(t => new TagRow(
            t.GetProperty("name").GetString()!,
            t.GetProperty("manifestDigest").GetString()!,
            t.TryGetProperty("live", out var live) && live.GetBoolean(),
            t.TryGetProperty("endedAt", out var ended) && ended.ValueKind == JsonValueKind.String ? ended.GetString() : null))];
    }

    [Fact]
    public async Task Parallel_monolithic_pushes_of_one_blob_all_succeed_and_store_one_file()
    {
        var repository = OciClient.NewRepository();
        var content = OciClient.RandomBytes(256 * 1024);
        var digest = OciClient.Sha256(content);
        var stagedBefore = OciClient.StagedUploads(fixture.DataDirectory);

        var statuses = await AllAtOnceAsync(async _ =>
        {
            using var response = await _oci.Http.PostAsync($"/v2/{repository}/blobs/uploads/?digest={digest}", new ByteArrayContent(content));
            return response.StatusCode;
        });

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.Created, s));
        var file = OciClient.BlobFile(fixture.DataDirectory, digest);
        Assert.Equal([Path.GetFileName(file)], Directory.GetFiles(Path.GetDirectoryName(file)!).Select(Path.GetFileName).Where(f => f!.StartsWith(digest[7..], StringComparison.Ordinal)));
        Assert.Equal(content, await File.ReadAllBytesAsync(file));
        Assert.Empty(OciClient.StagedUploads(fixture.DataDirectory).Except(stagedBefore));
        using var get = await _oci.Http.GetAsync($"/v2/{repository}/blobs/{digest}");
        Assert.Equal(content, await get.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Parallel_first_pushes_to_a_new_repository_create_it_once()
    {
        var repository = OciClient.NewRepository();
        var blobs = Enumerable.Range(0, Parallel).Select(_ => OciClient.RandomBytes(1000)).ToArray();
        var statuses = await AllAtOnceAsync(async i =>
        {
            using var response = await _oci.Http.PostAsync($"/v2/{repository}/blobs/uploads/?digest={OciClient.Sha256(blobs[i])}", new ByteArrayContent(blobs[i]));
            return response.StatusCode;
        });
        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.Created, s));
        foreach (var blob in blobs)
        {
            using var head = await _oci.SendAsync(HttpMethod.Head, $"/v2/{repository}/blobs/{OciClient.Sha256(blob)}");
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        }
        using var catalog = await _oci.Http.GetAsync("/v2/_catalog");
        using var document = JsonDocument.Parse(await catalog.Content.ReadAsStringAsync());
        Assert.Single(document.RootElement.GetProperty("repositories").EnumerateArray(), r => r.GetString() == repository);
    }

    [Fact]
    public async Task Parallel_puts_of_one_manifest_all_succeed_with_one_tag_row()
    {
        var repository = OciClient.NewRepository();
        var manifest = await _oci.NewImageManifestAsync(repository);
        var digest = OciClient.Sha256(manifest);

        var results = await AllAtOnceAsync(async _ =>
        {
            using var response = await _oci.PutManifestAsync(repository, "same", manifest, OciClient.OciManifestType);
            return (response.StatusCode, Digest: OciClient.OptionalHeader(response, "Docker-Content-Digest"));
        });

        Assert.All(results, r => Assert.Equal((HttpStatusCode.Created, digest), r));
        using var get = await _oci.Http.GetAsync($"/v2/{repository}/manifests/same");
        Assert.Equal(manifest, await get.Content.ReadAsByteArrayAsync());
        // Pointing a tag at the manifest it already names is not a move.
        var row = Assert.Single(await TagHistoryAsync(repository));
        Assert.Equal(("same", digest, true), (row.Name, row.ManifestDigest, row.Live));
    }

    [Fact]
    public async Task Parallel_moves_of_one_tag_leave_exactly_one_live_tag_and_full_history()
    {
        var repository = OciClient.NewRepository();
        var manifests = new byte[Parallel][];
        for (var i = 0; i < Parallel; i++)
        {
            manifests[i] = await _oci.NewImageManifestAsync(repository);
            await _oci.PutManifestCreatedAsync(repository, OciClient.Sha256(manifests[i]), manifests[i], OciClient.OciManifestType);
        }
        var digests = manifests.Select(OciClient.Sha256).ToHashSet();

        var statuses = await AllAtOnceAsync(async i =>
        {
            using var response = await _oci.PutManifestAsync(repository, "moving", manifests[i], OciClient.OciManifestType);
            return response.StatusCode;
        });

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.Created, s));
        Assert.Equal(["moving"], await _oci.ListTagsAsync(repository));
        using var get = await _oci.Http.GetAsync($"/v2/{repository}/manifests/moving");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        var resolved = OciClient.Header(get, "Docker-Content-Digest");
        Assert.Contains(resolved, digests);
        Assert.Equal(resolved, OciClient.Sha256(await get.Content.ReadAsByteArrayAsync()));

        var history = await TagHistoryAsync(repository);
        Assert.Equal(Parallel, history.Count);
        Assert.All(history, r => Assert.Equal("moving", r.Name));
        Assert.Equal(digests, history.Select(r => r.ManifestDigest).ToHashSet());
        var live = Assert.Single(history, r => r.Live);
        Assert.Equal(resolved, live.ManifestDigest);
        Assert.Null(live.EndedAt);
        Assert.All(history.Where(r => !r.Live), r => Assert.NotNull(r.EndedAt));
    }

    /// <summary>
    /// Runs <paramref name="write"/> round after round while readers HEAD the manifest at
    /// <paramref name="reference"/> in a loop; once a round's write has returned and the
    /// readers are done, a fresh GET must give the written state. A reader that read the
    /// database just before the write committed must not leave that older answer in the
    /// cache. The manifest the readers re-read is large, so such a read is often still in
    /// flight when the write commits. Returns how many rounds ended in the old state.
    /// </summary>
    private async Task<int> StaleRoundsAsync(string repository, string reference, Func<Task> write, Func<HttpResponseMessage, bool> isCurrent)
    {
        const int rounds = 20;
        var stale = 0;
        for (var round = 0; round < rounds; round++)
        {
            using var stop = new CancellationTokenSource();
            var readers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    using var response = await _oci.SendAsync(HttpMethod.Head, $"/v2/{repository}/manifests/{reference}");
                }
            })).ToArray();
            await write();
            await stop.CancelAsync();
            await Task.WhenAll(readers);
            using var after = await _oci.SendAsync(HttpMethod.Head, $"/v2/{repository}/manifests/{reference}");
            if (!isCurrent(after)) stale++;
        }
        return stale;
    }

    [Fact]
    public async Task Tag_read_while_it_moves_never_stays_on_the_old_manifest()
    {
        var repository = OciClient.NewRepository();
        var large = await _oci.PaddedManifestAsync(repository, 2 * 1024 * 1024);
        var small = await _oci.NewImageManifestAsync(repository);
        var smallDigest = OciClient.Sha256(small);
        await _oci.PutManifestCreatedAsync(repository, OciClient.Sha256(large), large, OciClient.OciManifestType);
        var stale = await StaleRoundsAsync(repository, "moving", async () =>
        {
            await _oci.PutManifestCreatedAsync(repository, "moving", large, OciClient.OciManifestType);
            await _oci.PutManifestCreatedAsync(repository, "moving", small, OciClient.OciManifestType);
        }, response => OciClient.OptionalHeader(response, "Docker-Content-Digest") == smallDigest);
        Assert.True(stale == 0, $"{stale} rounds still resolved the tag to the manifest it was moved away from");
    }

    [Fact]
    public async Task Tag_read_while_it_is_deleted_is_not_served_afterwards()
    {
        var repository = OciClient.NewRepository();
        var manifest = await _oci.PaddedManifestAsync(repository, 2 * 1024 * 1024);
        var stale = await StaleRoundsAsync(repository, "doomed", async () =>
        {
            await _oci.PutManifestCreatedAsync(repository, "doomed", manifest, OciClient.OciManifestType);
            using var delete = await _oci.Http.DeleteAsync($"/v2/{repository}/manifests/doomed");
            Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        }, response => response.StatusCode == HttpStatusCode.NotFound);
        Assert.True(stale == 0, $"{stale} rounds still resolved the tag after its DELETE returned");
    }

    [Fact]
    public async Task Parallel_chunks_for_the_same_range_accept_exactly_one()
    {
        var repository = OciClient.NewRepository();
        var location = await _oci.StartUploadAsync(repository);
        var chunk = OciClient.RandomBytes(64 * 1024);

        var results = await AllAtOnceAsync(async _ =>
        {
            using var response = await _oci.SendAsync(HttpMethod.Patch, location, chunk,
                r => r.Content!.Headers.TryAddWithoutValidation("Content-Range", $"0-{chunk.Length - 1}"));
            return response.StatusCode;
        });

        Assert.Equal(1, results.Count(s => s == HttpStatusCode.Accepted));
        Assert.Equal(Parallel - 1, results.Count(s => s == HttpStatusCode.RequestedRangeNotSatisfiable));
        using (var put = await _oci.SendAsync(HttpMethod.Put, OciClient.WithQuery(location, $"digest={OciClient.Sha256(chunk)}")))
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        using var get = await _oci.Http.GetAsync($"/v2/{repository}/blobs/{OciClient.Sha256(chunk)}");
        Assert.Equal(chunk, await get.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Parallel_mounts_of_one_blob_all_succeed()
    {
        var source = OciClient.NewRepository();
        var target = OciClient.NewRepository();
        var content = OciClient.RandomBytes(5000);
        var digest = await _oci.PushBlobAsync(source, content);
        var statuses = await AllAtOnceAsync(async _ =>
        {
            using var response = await _oci.Http.PostAsync($"/v2/{target}/blobs/uploads/?mount={digest}&from={source}", null);
            return response.StatusCode;
        });
        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.Created, s));
        using var get = await _oci.Http.GetAsync($"/v2/{target}/blobs/{digest}");
        Assert.Equal(content, await get.Content.ReadAsByteArrayAsync());
    }
}
