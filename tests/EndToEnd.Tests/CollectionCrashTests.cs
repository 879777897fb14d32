using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Berth.TestSupport;
using Microsoft.Data.Sqlite;

namespace Berth.EndToEnd.Tests;

/// <summary>
/// kill -9 of the Server in the middle of a garbage collection: at the next start
/// the run is resumed under the same id and finishes; every kept tag then pulls
/// completely, no blob nothing references is left, no file lacks its row (nor a
/// row its file), the trash is empty and the database passes its integrity check.
/// </summary>
public sealed class CollectionCrashTests
{
    private const int Images = 240;
    private const int Kept = 40;

    private static readonly string[] Settings =
    [
        "--Auth:InitialAdminPassword", BerthHosts.AdminPassword, "--Registry:GracePeriod", "00:00:01",
        "--Collector:DefaultTimeMachineWindow", "00:00:00", "--Collector:Interval", "00:00:00",
        // Slow the collection down (it rests 19 times as long as it works) so the kill lands in the middle.
        "--Collector:DutyCycle", "0.05",
    ];

    [Fact]
    public async Task Kill_during_a_collection_resumes_it_at_the_next_start_and_ends_consistent()
    {
        using var data = new TempDirectory("berth-gc-crash");
        var kept = new Dictionary<string, byte[]>();
        string runId;
        using (var serverProcess = await ServerProcess.StartAsync(data.Path, Settings))
        {
            using var http = serverProcess.CreateClient();
            for (var i = 0; i < Images; i++)
            {
                var manifest = await PushImageAsync(http, $"t{i}");
                if (i >= Images - Kept) kept[$"t{i}"] = manifest;
            }
            for (var i = 0; i < Images - Kept; i++)
                using (var deleted = await http.DeleteAsync($"/v2/gccrash/app/manifests/t{i}"))
                    Assert.Equal(HttpStatusCode.Accepted, deleted.StatusCode);
            await Task.Delay(TimeSpan.FromSeconds(1.5));

            using var admin = RegistryLogin.WithBasic(serverProcess.CreateClient(), "admin", BerthHosts.AdminPassword);
            using var started = await admin.PostAsJsonAsync("/api/v1/collector/runs", new { });
            Assert.Equal(HttpStatusCode.OK, started.StatusCode);
            runId = JsonDocument.Parse(await started.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;

            // Kill once blobs are being deleted: the most delicate stage.
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (true)
            {
                var run = await RunAsync(admin, runId);
                Assert.Equal("running", run.GetProperty("status").GetString());
                if (run.TryGetProperty("blobsRemoved", out var removed) && removed.GetInt32() > 0) break;
                Assert.True(DateTime.UtcNow < deadline, "the collection never reached the blobs; last state: " + run);
                await Task.Delay(50);
            }
            serverProcess.Process.Kill();
            await serverProcess.Process.WaitForExitAsync();
        }

        await using var restarted = await BerthHosts.StartServerAsync(data.Path, [.. Settings[2..], "--Collector:DutyCycle", "1"]);
        using (var admin = RegistryLogin.WithBasic(restarted.CreateClient(), "admin", BerthHosts.AdminPassword))
        {
            var deadline = DateTime.UtcNow.AddSeconds(120);
            JsonElement run;
            while ((run = await RunAsync(admin, runId)).GetProperty("status").GetString() == "running")
            {
                Assert.True(DateTime.UtcNow < deadline, "the resumed collection did not finish");
                await Task.Delay(100);
            }
            Assert.Equal(("succeeded", 1), (run.GetProperty("status").GetString(), run.GetProperty("resumes").GetInt32()));
            Assert.Equal(Images - Kept, run.GetProperty("manifestsRemoved").GetInt32());
            Assert.Equal((Images - Kept) * 2, run.GetProperty("blobsRemoved").GetInt32());
        }

        using var client = restarted.CreateClient();
        foreach (var (tag, manifest) in kept)
        {
            using var response = await client.GetAsync($"/v2/gccrash/app/manifests/{tag}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(manifest, await response.Content.ReadAsByteArrayAsync());
            using var document = JsonDocument.Parse(manifest);
            var blobs = document.RootElement.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("digest").GetString()!)
                .Append(document.RootElement.GetProperty("config").GetProperty("digest").GetString()!);
            foreach (var blob in blobs)
                Assert.Equal(blob, Sha256(await client.GetByteArrayAsync($"/v2/gccrash/app/blobs/{blob}")));
        }

        var files = Directory.EnumerateFiles(Path.Combine(data.Path, "storage", "blobs", "sha256"), "*", SearchOption.AllDirectories)
            .Select(f => "sha256:" + Path.GetFileName(f)).ToHashSet();
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(data.Path, "storage", "trash")));
        await using var db = new SqliteConnection($"Data Source={Path.Combine(data.Path, "registry.db")};Mode=ReadOnly;Pooling=False");
        await db.OpenAsync();
        var rows = new HashSet<string>();
        await using (var query = db.CreateCommand())
        {
            query.CommandText = """SELECT "Digest" FROM "Blobs" """;
            await using var reader = await query.ExecuteReaderAsync();
            while (await reader.ReadAsync()) rows.Add(reader.GetString(0));
        }
        Assert.Equal(Kept * 2, rows.Count);
        Assert.True(rows.SetEquals(files), $"rows without files: {string.Join(", ", rows.Except(files).Take(3))}; files without rows: {string.Join(", ", files.Except(rows).Take(3))}");
        await using var check = db.CreateCommand();
        check.CommandText = "PRAGMA integrity_check";
        Assert.Equal("ok", (string?)await check.ExecuteScalarAsync());
    }

    private static async Task<JsonElement> RunAsync(HttpClient admin, string id)
    {
        using var response = await admin.GetAsync($"/api/v1/collector/runs/{id}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    /// <summary>A config and one layer, both unique, and a manifest tagged <paramref name="tag"/>; returns the manifest.</summary>
    private static async Task<byte[]> PushImageAsync(HttpClient http, string tag)
    {
        var config = Encoding.UTF8.GetBytes($$"""{"architecture":"amd64","os":"linux","nonce":"{{Guid.NewGuid()}}"}""");
        var layer = RandomNumberGenerator.GetBytes(2048);
        foreach (var blob in new[] { config, layer })
            using (var pushed = await http.PostAsync($"/v2/gccrash/app/blobs/uploads/?digest={Sha256(blob)}", new ByteArrayContent(blob)))
                Assert.Equal(HttpStatusCode.Created, pushed.StatusCode);
        var manifest = Encoding.UTF8.GetBytes($$"""
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
             "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{Sha256(config)}}","size":{{config.Length}}},
             "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{{Sha256(layer)}}","size":{{layer.Length}}}]}
            """);
        using var content = new ByteArrayContent(manifest);
        content.Headers.ContentType = new("application/vnd.oci.image.manifest.v1+json");
        using var put = await http.PutAsync($"/v2/gccrash/app/manifests/{tag}", content);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        return manifest;
    }

    private static string Sha256(byte[] content) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));
}
