using System.Net;
using System.Text;
using System.Text.Json;

namespace Berth.Registry.Tests;

/// <summary>Inputs found in review that once reached a 500 or left debris; each now gets a clear 4xx or succeeds.</summary>
public sealed class BadInputRegressionTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task Absurd_declared_sizes_in_an_index_do_not_overflow()
    {
        using var http = fixture.CreateClient();
        var oci = new OciClient(http);
        var repository = $"bad/{Guid.NewGuid():N}";
        var (child, childDigest) = await oci.PushImageAsync(repository, "child");
        var index = JsonSerializer.SerializeToUtf8Bytes(new
        {
            schemaVersion = 2,
            mediaType = "application/vnd.oci.image.index.v1+json",
            manifests = new[]
            {
                new { mediaType = "application/vnd.oci.image.manifest.v1+json", digest = childDigest, size = long.MaxValue },
                new { mediaType = "application/vnd.oci.image.manifest.v1+json", digest = childDigest, size = long.MaxValue },
            },
        });
        using var response = await oci.PutManifestAsync(repository, "index", index, "application/vnd.oci.image.index.v1+json");
        Assert.True((int)response.StatusCode < 500, $"got {(int)response.StatusCode}");
        Assert.NotEmpty(child);
    }

    [Theory]
    [InlineData("/v2/_catalog?last=%00")]
    [InlineData("/v2/bad/x/tags/list?last=a%00b")]
    [InlineData("/v2/bad/x/referrers/sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa?artifactType=%00")]
    public async Task Control_characters_in_paging_keys_and_filters_are_refused(string path)
    {
        using var http = fixture.CreateClient();
        using var response = await http.GetAsync(path);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task A_manifest_with_a_control_character_in_its_artifact_type_is_invalid()
    {
        using var http = fixture.CreateClient();
        var oci = new OciClient(http);
        var repository = $"bad/{Guid.NewGuid():N}";
        var config = await oci.PushBlobAsync(repository, Encoding.UTF8.GetBytes("{}"));
        var manifest = OciClient.ImageManifest(config, 2, [], artifactType: "application/x\u0000y");
        using var response = await oci.PutManifestAsync(repository, "t", manifest, "application/vnd.oci.image.manifest.v1+json");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(["MANIFEST_INVALID"], await OciClient.ErrorCodesAsync(response));
    }

    [Fact]
    public async Task A_refused_upload_start_leaves_no_repository_behind()
    {
        using var http = fixture.CreateClient();
        var repository = $"bad/{Guid.NewGuid():N}";
        using var response = await http.PostAsync($"/v2/{repository}/blobs/uploads/?mount=sha256:nothex&from=other", null);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var tags = await http.GetAsync($"/v2/{repository}/tags/list");
        Assert.Equal(HttpStatusCode.NotFound, tags.StatusCode);
    }
}
