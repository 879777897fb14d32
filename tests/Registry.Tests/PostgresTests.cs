using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Berth.Registry.Tests;

/// <summary>The same registry on PostgreSQL: migrations apply, and pushes, listings, deletes and races behave as on SQLite.</summary>
public sealed class PostgresTests(PostgresFixture fixture) : IClassFixture<PostgresFixture>
{
    [SkippableFact]
    public async Task Push_pull_list_and_delete_work_on_postgres()
    {
        using var http = fixture.Require().CreateClient();
        var oci = new OciClient(http);
        var repository = $"pg/{Guid.NewGuid():N}";
        var (manifest, digest) = await oci.PushImageAsync(repository, "v1");
        await oci.PushImageAsync(repository, "Zeta");
        await oci.PushImageAsync(repository, "alpha");

        Assert.Equal(manifest, await http.GetByteArrayAsync($"/v2/{repository}/manifests/v1"));
        Assert.Equal(manifest, await http.GetByteArrayAsync($"/v2/{repository}/manifests/{digest}"));

        // Byte order, not the database's locale: upper case sorts before lower case.
        var tags = await http.GetFromJsonAsync<JsonElement>($"/v2/{repository}/tags/list");
        Assert.Equal(["Zeta", "alpha", "v1"], tags.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));

        using var delete = await http.DeleteAsync($"/v2/{repository}/manifests/{digest}");
        Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        using var gone = await http.GetAsync($"/v2/{repository}/manifests/v1");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [SkippableFact]
    public async Task Concurrent_moves_of_one_tag_leave_exactly_one_live_row()
    {
        using var http = fixture.Require().CreateClient();
        var oci = new OciClient(http);
        var repository = $"pg/{Guid.NewGuid():N}";
        var pushed = new List<(byte[] Manifest, string Digest)>();
        for (var i = 0; i < 8; i++) pushed.Add(await oci.PushImageAsync(repository, $"seed{i}"));

        var moves = pushed.Select(async p =>
        {
            using var response = await oci.PutManifestAsync(repository, "latest", p.Manifest, "application/vnd.oci.image.manifest.v1+json");
            return response.StatusCode;
        });
        var statuses = await Task.WhenAll(moves);
        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.Created, s));

        var history = await http.GetFromJsonAsync<JsonElement>($"/api/v1/tags/{repository}?includeHistory=true");
        var latest = history.GetProperty("tags").EnumerateArray().Where(t => t.GetProperty("name").GetString() == "latest").ToList();
        Assert.Single(latest, t => t.TryGetProperty("live", out var live) && live.GetBoolean());
        Assert.Equal(8, latest.Count);
        var live = await http.GetAsync($"/v2/{repository}/manifests/latest");
        Assert.Contains(live.Headers.GetValues("Docker-Content-Digest").Single(), pushed.Select(p => p.Digest));
    }

    [SkippableFact]
    public async Task Concurrent_pushes_of_the_same_blob_and_manifest_all_succeed_once()
    {
        using var http = fixture.Require().CreateClient();
        var oci = new OciClient(http);
        var repository = $"pg/{Guid.NewGuid():N}";
        var blob = OciClient.RandomBytes(4096);
        var blobPushes = Enumerable.Range(0, 12).Select(async _ =>
        {
            using var r = await http.PostAsync($"/v2/{repository}/blobs/uploads/?digest={OciClient.Sha256(blob)}", new ByteArrayContent(blob));
            return r.StatusCode;
        });
        Assert.All(await Task.WhenAll(blobPushes), s => Assert.Equal(HttpStatusCode.Created, s));

        var config = await oci.PushBlobAsync(repository, "{}"u8.ToArray());
        var manifest = OciClient.ImageManifest(config, 2, [(OciClient.Sha256(blob), blob.Length)]);
        var manifestPushes = Enumerable.Range(0, 12).Select(async i =>
        {
            using var r = await oci.PutManifestAsync(repository, $"t{i % 3}", manifest, "application/vnd.oci.image.manifest.v1+json");
            return r.StatusCode;
        });
        Assert.All(await Task.WhenAll(manifestPushes), s => Assert.Equal(HttpStatusCode.Created, s));
        var repo = await http.GetFromJsonAsync<JsonElement>($"/api/v1/repositories/{repository}");
        Assert.Equal(1, repo.GetProperty("manifestCount").GetInt32());
        Assert.Equal(3, repo.GetProperty("tagCount").GetInt32());
    }
}
