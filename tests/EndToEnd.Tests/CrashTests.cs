using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Berth.TestSupport;
using Microsoft.Data.Sqlite;

namespace Berth.EndToEnd.Tests;

/// <summary>
/// kill -9 of the Server in the middle of a stream of pushes: after a restart every
/// push that was acknowledged is complete, no file at a content address is partial,
/// and the database passes its integrity check.
/// </summary>
public sealed class CrashTests
{
    [Fact]
    public async Task Kill_during_pushes_loses_no_acknowledged_push_and_leaves_no_partial_blob()
    {
        using var data = new TempDirectory("berth-crash");
        using var serverProcess = await ServerProcess.StartAsync(data.Path);
        var server = serverProcess.Process;
        using var http = serverProcess.CreateClient();

        var acknowledged = new ConcurrentBag<(string Tag, string Digest, byte[] Layer)>();
        using var stop = new CancellationTokenSource();
        var workers = Enumerable.Range(0, 4).Select(w => PushUntilStoppedAsync(http, w, acknowledged, stop.Token)).ToArray();

        // Let pushes run, then kill without warning while they are in flight.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.False(server.HasExited, "the server died before it was killed");
        server.Kill();
        await server.WaitForExitAsync();
        stop.Cancel();
        await Task.WhenAll(workers);
        Assert.True(acknowledged.Count > 0, "no push completed before the kill; the test proves nothing");

        await using var restarted = await BerthHosts.StartServerAsync(data.Path);
        using var client = restarted.CreateClient();
        foreach (var (tag, digest, layer) in acknowledged)
        {
            using var manifest = await client.GetAsync($"/v2/crash/repo/manifests/{tag}");
            Assert.Equal(HttpStatusCode.OK, manifest.StatusCode);
            Assert.Equal(digest, manifest.Headers.GetValues("Docker-Content-Digest").Single());
            Assert.Equal(layer, await client.GetByteArrayAsync($"/v2/crash/repo/blobs/{Sha256(layer)}"));
        }

        // Nothing partial at a content address: every blob file hashes to its own name.
        foreach (var file in Directory.EnumerateFiles(Path.Combine(data.Path, "storage", "blobs", "sha256"), "*", SearchOption.AllDirectories))
        {
            await using var stream = File.OpenRead(file);
            Assert.Equal(Path.GetFileName(file), Convert.ToHexStringLower(await SHA256.HashDataAsync(stream)));
        }

        await using var db = new SqliteConnection($"Data Source={Path.Combine(data.Path, "registry.db")};Mode=ReadOnly;Pooling=False");
        await db.OpenAsync();
        await using var check = db.CreateCommand();
        check.CommandText = "PRAGMA integrity_check";
        Assert.Equal("ok", (string?)await check.ExecuteScalarAsync());
    }

    /// <summary>Pushes 1–3 MiB layers in chunks and a manifest per layer; records what the registry acknowledged.</summary>
    private static async Task PushUntilStoppedAsync(HttpClient http, int worker, ConcurrentBag<(string, string, byte[])> acknowledged, CancellationToken stop)
    {
        var config = Encoding.UTF8.GetBytes("""{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}""");
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            try
            {
                var layer = RandomNumberGenerator.GetBytes(Random.Shared.Next(1, 4) * 1024 * 1024);
                await PostBlobAsync(http, config);
                using (var finish = await ChunkedUpload.PushAsync(http, "crash/repo", layer, Sha256(layer), 512 * 1024))
                    if (finish.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException($"finish: {finish.StatusCode}");
                var manifest = Encoding.UTF8.GetBytes($$"""
                    {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
                     "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{Sha256(config)}}","size":{{config.Length}}},
                     "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{{Sha256(layer)}}","size":{{layer.Length}}}]}
                    """);
                var tag = $"w{worker}-{i}";
                using var content = new ByteArrayContent(manifest);
                content.Headers.ContentType = new("application/vnd.oci.image.manifest.v1+json");
                using var put = await http.PutAsync($"/v2/crash/repo/manifests/{tag}", content);
                if (put.StatusCode == HttpStatusCode.Created) acknowledged.Add((tag, Sha256(manifest), layer));
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException or InvalidOperationException)
            {
                // The server is gone; this push was never acknowledged.
                return;
            }
        }
    }

    private static async Task PostBlobAsync(HttpClient http, byte[] blob)
    {
        using var response = await http.PostAsync($"/v2/crash/repo/blobs/uploads/?digest={Sha256(blob)}", new ByteArrayContent(blob));
        if (response.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException($"blob push: {response.StatusCode}");
    }

    private static string Sha256(byte[] content) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));
}
