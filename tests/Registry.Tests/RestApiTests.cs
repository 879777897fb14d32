using System.Net;
using System.Text;
using System.Text.Json;

namespace Berth.Registry.Tests;

/// <summary>The management API over REST (/api/v1, JSON transcoding of protos/registry.proto).</summary>
public sealed class RestApiTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly OciClient _oci = new(fixture.CreateClient());

    private async Task<JsonElement> GetJsonAsync(string url, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await _oci.Http.GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"GET {url}: {(int)response.StatusCode} {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>A repository with tags "v1" and "v2" on one image and "old" moved from that image to another.</summary>
    private async Task<(string Repository, string Digest, byte[] Manifest, string Other, long BlobBytes)> SeedAsync()
    {
        var repository = OciClient.NewRepository("rest");
        var (config, configSize, layer, layerSize) = await _oci.PushConfigAndLayerAsync(repository, 2048);
        var manifest = OciClient.ImageManifest(config, configSize, [(layer, layerSize)]);
        var digest = await _oci.PutManifestCreatedAsync(repository, "v1", manifest, OciClient.OciManifestType);
        await _oci.PutManifestCreatedAsync(repository, "v2", manifest, OciClient.OciManifestType);
        await _oci.PutManifestCreatedAsync(repository, "old", manifest, OciClient.OciManifestType);
        var (otherConfig, otherConfigSize, otherLayer, otherLayerSize) = await _oci.PushConfigAndLayerAsync(repository, 100);
        var other = OciClient.ImageManifest(otherConfig, otherConfigSize, [(otherLayer, otherLayerSize)]);
        var otherDigest = await _oci.PutManifestCreatedAsync(repository, "old", other, OciClient.OciManifestType);
        return (repository, digest, manifest, otherDigest, configSize + layerSize + otherConfigSize + otherLayerSize);
    }

    [Fact]
    public async Task List_repositories_includes_pushed_repositories_in_order()
    {
        var (repository, _, _, _, _) = await SeedAsync();
        var (second, _, _, _, _) = await SeedAsync();
        var root = await GetJsonAsync("/api/v1/repositories?pageSize=1000");
        var names = root.GetProperty("repositories").EnumerateArray().Select(r => r.GetProperty("name").GetString()!).ToList();
        Assert.Contains(repository, names);
        Assert.Contains(second, names);
        Assert.Equal(names.Order(StringComparer.Ordinal), names);
        var entry = root.GetProperty("repositories").EnumerateArray().Single(r => r.GetProperty("name").GetString() == repository);
        Assert.Equal(3, entry.GetProperty("tagCount").GetInt32());
    }

    [Fact]
    public async Task List_repositories_pages_with_page_token()
    {
        await SeedAsync();
        await SeedAsync();
        await SeedAsync();
        var all = (await GetJsonAsync("/api/v1/repositories?pageSize=1000")).GetProperty("repositories").EnumerateArray().Select(r => r.GetProperty("name").GetString()!).ToList();
        var paged = new List<string>();
        var token = "";
        for (var pages = 0; ; pages++)
        {
            Assert.True(pages < 100);
            var page = await GetJsonAsync($"/api/v1/repositories?pageSize=2&pageToken={Uri.EscapeDataString(token)}");
            var names = page.GetProperty("repositories").EnumerateArray().Select(r => r.GetProperty("name").GetString()!).ToList();
            Assert.InRange(names.Count, 0, 2);
            paged.AddRange(names);
            token = page.GetProperty("nextPageToken").GetString()!;
            if (token.Length == 0) break;
        }
        Assert.Equal(all, paged);
    }

    [Fact]
    public async Task Get_repository_describes_it()
    {
        var before = DateTime.UtcNow.AddSeconds(-5);
        var (repository, _, _, _, blobBytes) = await SeedAsync();
        var root = await GetJsonAsync($"/api/v1/repositories/{repository}");
        Assert.Equal(repository, root.GetProperty("name").GetString());
        Assert.Equal(3, root.GetProperty("tagCount").GetInt32());
        Assert.Equal(2, root.GetProperty("manifestCount").GetInt32());
        Assert.Equal(blobBytes, root.GetProperty("sizeBytes").GetInt64());
        var created = root.GetProperty("createdAt").GetDateTime();
        Assert.InRange(created, before, DateTime.UtcNow.AddSeconds(5));
        Assert.InRange(root.GetProperty("lastModified").GetDateTime(), created, DateTime.UtcNow.AddSeconds(5));
    }

    [Fact]
    public async Task Get_repository_errors()
    {
        var unknown = await GetJsonAsync($"/api/v1/repositories/{OciClient.NewRepository()}", HttpStatusCode.NotFound);
        Assert.Contains("NAME_UNKNOWN", unknown.GetProperty("message").GetString());
        await GetJsonAsync("/api/v1/repositories/Not/Valid", HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task List_tags_with_and_without_history()
    {
        var (repository, digest, _, other, _) = await SeedAsync();

        var live = (await GetJsonAsync($"/api/v1/tags/{repository}")).GetProperty("tags").EnumerateArray().ToList();
        Assert.Equal(["old", "v1", "v2"], live.Select(t => t.GetProperty("name").GetString()));
        Assert.All(live, t => Assert.True(t.GetProperty("live").GetBoolean()));
        Assert.Equal(other, live[0].GetProperty("manifestDigest").GetString());
        Assert.Equal(digest, live[1].GetProperty("manifestDigest").GetString());
        Assert.Equal(OciClient.OciManifestType, live[1].GetProperty("mediaType").GetString());

        var history = (await GetJsonAsync($"/api/v1/tags/{repository}?includeHistory=true")).GetProperty("tags").EnumerateArray().ToList();
        Assert.Equal(["old", "old", "v1", "v2"], history.Select(t => t.GetProperty("name").GetString()));
        // Newest first within a tag: the live row, then the row the move ended.
        Assert.Equal((other, true), (history[0].GetProperty("manifestDigest").GetString(), history[0].GetProperty("live").GetBoolean()));
        Assert.Equal((digest, false), (history[1].GetProperty("manifestDigest").GetString(), history[1].GetProperty("live").GetBoolean()));
        Assert.Equal(history[0].GetProperty("startedAt").GetDateTime(), history[1].GetProperty("endedAt").GetDateTime());
        Assert.False(history[0].TryGetProperty("endedAt", out var ended) && ended.ValueKind != JsonValueKind.Null);
    }

    [Fact]
    public async Task List_tags_pages_by_tag_name()
    {
        var (repository, _, _, _, _) = await SeedAsync();
        var first = await GetJsonAsync($"/api/v1/tags/{repository}?includeHistory=true&pageSize=1");
        // A page holds every row of its tag names, so the moved tag's two rows stay together.
        Assert.Equal(["old", "old"], first.GetProperty("tags").EnumerateArray().Select(t => t.GetProperty("name").GetString()));
        Assert.Equal("old", first.GetProperty("nextPageToken").GetString());
        var second = await GetJsonAsync($"/api/v1/tags/{repository}?includeHistory=true&pageSize=1&pageToken=old");
        Assert.Equal(["v1"], second.GetProperty("tags").EnumerateArray().Select(t => t.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task Get_manifest_by_tag_and_by_digest()
    {
        var before = DateTime.UtcNow.AddSeconds(-5);
        var (repository, digest, manifest, _, _) = await SeedAsync();
        foreach (var reference in new[] { "v1", digest })
        {
            var root = await GetJsonAsync($"/api/v1/manifests/{repository}?reference={Uri.EscapeDataString(reference)}");
            Assert.Equal(repository, root.GetProperty("repository").GetString());
            Assert.Equal(digest, root.GetProperty("digest").GetString());
            Assert.Equal(OciClient.OciManifestType, root.GetProperty("mediaType").GetString());
            Assert.Equal(manifest.Length, root.GetProperty("sizeBytes").GetInt64());
            Assert.Equal(Encoding.UTF8.GetString(manifest), root.GetProperty("content").GetString());
            Assert.Equal(["v1", "v2"], root.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
            var references = root.GetProperty("references").EnumerateArray().ToList();
            Assert.Equal(2, references.Count);
            Assert.Equal("application/vnd.oci.image.config.v1+json", references[0].GetProperty("mediaType").GetString());
            Assert.Equal("application/vnd.oci.image.layer.v1.tar+gzip", references[1].GetProperty("mediaType").GetString());
            Assert.Equal(2048, references[1].GetProperty("size").GetInt64());
            Assert.True(root.TryGetProperty("pushedAt", out var pushedAt), "pushedAt is missing");
            Assert.InRange(pushedAt.GetDateTime(), before, DateTime.UtcNow.AddSeconds(5));
        }
    }

    [Fact]
    public async Task Get_manifest_reports_subject_and_artifact_type()
    {
        var repository = OciClient.NewRepository("rest");
        var (_, subject) = await _oci.PushImageAsync(repository, "base");
        var referrer = await _oci.NewImageManifestAsync(repository, subject: subject, artifactType: "application/vnd.example.sbom");
        var digest = await _oci.PutManifestCreatedAsync(repository, "sbom", referrer, OciClient.OciManifestType);
        var root = await GetJsonAsync($"/api/v1/manifests/{repository}?reference=sbom");
        Assert.Equal(digest, root.GetProperty("digest").GetString());
        Assert.Equal(subject, root.GetProperty("subjectDigest").GetString());
        Assert.Equal("application/vnd.example.sbom", root.GetProperty("artifactType").GetString());
    }

    [Fact]
    public async Task Get_manifest_errors()
    {
        var (repository, _, _, _, _) = await SeedAsync();
        var unknown = await GetJsonAsync($"/api/v1/manifests/{repository}?reference=nope", HttpStatusCode.NotFound);
        Assert.Contains("MANIFEST_UNKNOWN", unknown.GetProperty("message").GetString());
        await GetJsonAsync($"/api/v1/manifests/{repository}", HttpStatusCode.BadRequest);
        await GetJsonAsync($"/api/v1/manifests/{repository}?reference=sha256:bad", HttpStatusCode.BadRequest);
        await GetJsonAsync($"/api/v1/manifests/{OciClient.NewRepository()}?reference=v1", HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Delete_tag_ends_it_and_keeps_history()
    {
        var (repository, digest, manifest, _, _) = await SeedAsync();
        using (var delete = await _oci.Http.DeleteAsync($"/api/v1/tags/{repository}?tag=v1"))
        {
            var body = await delete.Content.ReadAsStringAsync();
            Assert.True(delete.StatusCode == HttpStatusCode.OK, body);
            using var document = JsonDocument.Parse(body);
            Assert.Equal(repository, document.RootElement.GetProperty("repository").GetString());
            Assert.Equal("v1", document.RootElement.GetProperty("tag").GetString());
            Assert.Equal(digest, document.RootElement.GetProperty("manifestDigest").GetString());
        }

        using (var get = await _oci.Http.GetAsync($"/v2/{repository}/manifests/v1"))
            await OciClient.AssertErrorAsync(get, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        using (var byDigest = await _oci.Http.GetAsync($"/v2/{repository}/manifests/{digest}"))
            Assert.Equal(manifest, await byDigest.Content.ReadAsByteArrayAsync());
        Assert.Equal(["old", "v2"], await _oci.ListTagsAsync(repository));

        var history = (await GetJsonAsync($"/api/v1/tags/{repository}?includeHistory=true")).GetProperty("tags").EnumerateArray()
            .Where(t => t.GetProperty("name").GetString() == "v1").ToList();
        var row = Assert.Single(history);
        Assert.False(row.GetProperty("live").GetBoolean());
        Assert.Equal(JsonValueKind.String, row.GetProperty("endedAt").ValueKind);

        using var again = await _oci.Http.DeleteAsync($"/api/v1/tags/{repository}?tag=v1");
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
    }

    [Fact]
    public async Task Delete_tag_refuses_a_digest_or_bad_input()
    {
        var (repository, digest, _, _, _) = await SeedAsync();
        using (var byDigest = await _oci.Http.DeleteAsync($"/api/v1/tags/{repository}?tag={Uri.EscapeDataString(digest)}"))
            Assert.Equal(HttpStatusCode.BadRequest, byDigest.StatusCode);
        using (var empty = await _oci.Http.DeleteAsync($"/api/v1/tags/{repository}"))
            Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        using (var badName = await _oci.Http.DeleteAsync("/api/v1/tags/Bad?tag=v1"))
            Assert.Equal(HttpStatusCode.BadRequest, badName.StatusCode);
        using (var unknown = await _oci.Http.DeleteAsync($"/api/v1/tags/{OciClient.NewRepository()}?tag=v1"))
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(["old", "v1", "v2"], await _oci.ListTagsAsync(repository));
    }
}
