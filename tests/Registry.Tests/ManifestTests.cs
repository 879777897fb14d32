using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Berth.Registry.Tests;

/// <summary>GET, HEAD, PUT and DELETE of /v2/&lt;name&gt;/manifests/&lt;reference&gt;.</summary>
public sealed class ManifestTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly OciClient _oci = new(fixture.CreateClient());

    /// <summary>A manifest of <paramref name="mediaType"/> ready to PUT, with everything it references already pushed.</summary>
    private async Task<byte[]> BuildAsync(string repository, string mediaType)
    {
        if (mediaType is OciClient.OciManifestType or OciClient.DockerManifestType)
            return await _oci.NewImageManifestAsync(repository, mediaType);
        var childType = mediaType == OciClient.DockerListType ? OciClient.DockerManifestType : OciClient.OciManifestType;
        var amd64 = await _oci.NewImageManifestAsync(repository, childType);
        var arm64 = await _oci.NewImageManifestAsync(repository, childType);
        await _oci.PutManifestCreatedAsync(repository, OciClient.Sha256(amd64), amd64, childType);
        await _oci.PutManifestCreatedAsync(repository, OciClient.Sha256(arm64), arm64, childType);
        return OciClient.ImageIndex([(OciClient.Sha256(amd64), amd64.Length, "amd64"), (OciClient.Sha256(arm64), arm64.Length, "arm64")], mediaType);
    }

    private async Task AssertManifestAsync(HttpMethod method, string repository, string reference, byte[] manifest, string mediaType)
    {
        using var response = await _oci.SendAsync(method, $"/v2/{repository}/manifests/{reference}", configure: r => r.Headers.Accept.ParseAdd(mediaType));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(OciClient.Sha256(manifest), OciClient.Header(response, "Docker-Content-Digest"));
        Assert.Equal(manifest.Length, response.Content.Headers.ContentLength);
        var body = await response.Content.ReadAsByteArrayAsync();
        if (method == HttpMethod.Head) Assert.Empty(body);
        else Assert.Equal(manifest, body);
    }

    private async Task AssertUnknownAsync(string repository, string reference)
    {
        using var get = await _oci.Http.GetAsync($"/v2/{repository}/manifests/{reference}");
        await OciClient.AssertErrorAsync(get, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        using var head = await _oci.SendAsync(HttpMethod.Head, $"/v2/{repository}/manifests/{reference}");
        Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
    }

    public static TheoryData<string> ManifestTypes =>
        [OciClient.OciManifestType, OciClient.OciIndexType, OciClient.DockerManifestType, OciClient.DockerListType];

    [Theory]
    [MemberData(nameof(ManifestTypes))]
    public async Task Put_get_head_delete_by_tag_and_digest(string mediaType)
    {
        var repository = OciClient.NewRepository();
        var manifest = await BuildAsync(repository, mediaType);
        var digest = OciClient.Sha256(manifest);

        using (var put = await _oci.PutManifestAsync(repository, "v1", manifest, mediaType))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
            Assert.Equal(digest, OciClient.Header(put, "Docker-Content-Digest"));
            Assert.EndsWith($"/v2/{repository}/manifests/{digest}", put.Headers.Location!.ToString());
        }
        foreach (var reference in new[] { "v1", digest })
        {
            await AssertManifestAsync(HttpMethod.Get, repository, reference, manifest, mediaType);
            await AssertManifestAsync(HttpMethod.Head, repository, reference, manifest, mediaType);
        }

        using (var deleteTag = await _oci.Http.DeleteAsync($"/v2/{repository}/manifests/v1"))
            Assert.Equal(HttpStatusCode.Accepted, deleteTag.StatusCode);
        await AssertUnknownAsync(repository, "v1");
        await AssertManifestAsync(HttpMethod.Get, repository, digest, manifest, mediaType);

        using (var deleteDigest = await _oci.Http.DeleteAsync($"/v2/{repository}/manifests/{digest}"))
            Assert.Equal(HttpStatusCode.Accepted, deleteDigest.StatusCode);
        await AssertUnknownAsync(repository, digest);
    }

    [Theory]
    [MemberData(nameof(ManifestTypes))]
    public async Task Put_by_digest_then_get_by_digest(string mediaType)
    {
        var repository = OciClient.NewRepository();
        var manifest = await BuildAsync(repository, mediaType);
        var digest = OciClient.Sha256(manifest);
        using (var put = await _oci.PutManifestAsync(repository, digest, manifest, mediaType))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
            Assert.Equal(digest, OciClient.Header(put, "Docker-Content-Digest"));
        }
        await AssertManifestAsync(HttpMethod.Get, repository, digest, manifest, mediaType);
        Assert.Empty(await _oci.ListTagsAsync(repository));
    }

    [Fact]
    public async Task Media_type_comes_from_content_type_when_the_body_has_none()
    {
        var repository = OciClient.NewRepository();
        var (config, configSize, layer, layerSize) = await _oci.PushConfigAndLayerAsync(repository);
        var manifest = JsonSerializer.SerializeToUtf8Bytes(new
        {
            schemaVersion = 2,
            config = new { mediaType = "application/vnd.docker.container.image.v1+json", digest = config, size = configSize },
            layers = new[] { new { mediaType = "application/vnd.docker.image.rootfs.diff.tar.gzip", digest = layer, size = layerSize } },
        });
        await _oci.PutManifestCreatedAsync(repository, "latest", manifest, OciClient.DockerManifestType);
        await AssertManifestAsync(HttpMethod.Get, repository, "latest", manifest, OciClient.DockerManifestType);
    }

    [Fact]
    public async Task Content_type_that_contradicts_the_body_is_manifest_invalid()
    {
        var repository = OciClient.NewRepository();
        var manifest = await _oci.NewImageManifestAsync(repository, OciClient.OciManifestType);
        using var put = await _oci.PutManifestAsync(repository, "latest", manifest, OciClient.DockerManifestType);
        await OciClient.AssertErrorAsync(put, HttpStatusCode.BadRequest, "MANIFEST_INVALID");
    }

    [Fact]
    public async Task Index_requested_by_a_client_that_accepts_only_image_manifests_gets_the_linux_amd64_image()
    {
        var repository = OciClient.NewRepository();
        var arm64 = await _oci.NewImageManifestAsync(repository);
        var amd64 = await _oci.NewImageManifestAsync(repository);
        await _oci.PutManifestCreatedAsync(repository, OciClient.Sha256(arm64), arm64, OciClient.OciManifestType);
        await _oci.PutManifestCreatedAsync(repository, OciClient.Sha256(amd64), amd64, OciClient.OciManifestType);
        // arm64 first, so picking the first child would be caught.
        var index = OciClient.ImageIndex([(OciClient.Sha256(arm64), arm64.Length, "arm64"), (OciClient.Sha256(amd64), amd64.Length, "amd64")]);
        await _oci.PutManifestCreatedAsync(repository, "multi", index, OciClient.OciIndexType);

        await AssertManifestAsync(HttpMethod.Get, repository, "multi", amd64, OciClient.OciManifestType);
        await AssertManifestAsync(HttpMethod.Head, repository, "multi", amd64, OciClient.OciManifestType);

        // Accepting the index (among others), or anything, returns the index itself.
        using (var both = await _oci.SendAsync(HttpMethod.Get, $"/v2/{repository}/manifests/multi", configure: r =>
               {
                   r.Headers.Accept.ParseAdd(OciClient.OciManifestType);
                   r.Headers.Accept.ParseAdd(OciClient.OciIndexType);
               }))
        {
            Assert.Equal(OciClient.OciIndexType, both.Content.Headers.ContentType?.MediaType);
            Assert.Equal(index, await both.Content.ReadAsByteArrayAsync());
        }
        using var any = await _oci.Http.GetAsync($"/v2/{repository}/manifests/multi");
        Assert.Equal(OciClient.OciIndexType, any.Content.Headers.ContentType?.MediaType);
        Assert.Equal(index, await any.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Manifest_of_a_type_the_client_does_not_accept_is_manifest_unknown()
    {
        var repository = OciClient.NewRepository();
        var manifest = await _oci.NewImageManifestAsync(repository);
        await _oci.PutManifestCreatedAsync(repository, "latest", manifest, OciClient.OciManifestType);
        using var response = await _oci.SendAsync(HttpMethod.Get, $"/v2/{repository}/manifests/latest",
            configure: r => r.Headers.Accept.ParseAdd(OciClient.DockerManifestType));
        await OciClient.AssertErrorAsync(response, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
    }

    [Fact]
    public async Task Missing_layer_or_config_is_manifest_blob_unknown()
    {
        var repository = OciClient.NewRepository();
        var (config, configSize, layer, layerSize) = await _oci.PushConfigAndLayerAsync(repository);
        var absent = OciClient.Sha256(OciClient.RandomBytes(16));

        using (var missingLayer = await _oci.PutManifestAsync(repository, "a", OciClient.ImageManifest(config, configSize, [(layer, layerSize), (absent, 16)]), OciClient.OciManifestType))
            await OciClient.AssertErrorAsync(missingLayer, HttpStatusCode.BadRequest, "MANIFEST_BLOB_UNKNOWN");
        using (var missingConfig = await _oci.PutManifestAsync(repository, "b", OciClient.ImageManifest(absent, 16, [(layer, layerSize)]), OciClient.OciManifestType))
            await OciClient.AssertErrorAsync(missingConfig, HttpStatusCode.BadRequest, "MANIFEST_BLOB_UNKNOWN");

        // A blob that lives in another repository does not count.
        var other = OciClient.NewRepository();
        var elsewhere = await _oci.PushBlobAsync(other, OciClient.RandomBytes(40));
        using (var foreign = await _oci.PutManifestAsync(repository, "c", OciClient.ImageManifest(config, configSize, [(elsewhere, 40)]), OciClient.OciManifestType))
            await OciClient.AssertErrorAsync(foreign, HttpStatusCode.BadRequest, "MANIFEST_BLOB_UNKNOWN");

        Assert.Empty(await _oci.ListTagsAsync(repository));
    }

    [Fact]
    public async Task Index_naming_a_missing_child_is_manifest_blob_unknown()
    {
        var repository = OciClient.NewRepository();
        var present = await _oci.NewImageManifestAsync(repository);
        await _oci.PutManifestCreatedAsync(repository, OciClient.Sha256(present), present, OciClient.OciManifestType);
        var index = OciClient.ImageIndex([(OciClient.Sha256(present), present.Length, "amd64"), (OciClient.Sha256(OciClient.RandomBytes(8)), 500, "arm64")]);
        using var put = await _oci.PutManifestAsync(repository, "multi", index, OciClient.OciIndexType);
        await OciClient.AssertErrorAsync(put, HttpStatusCode.BadRequest, "MANIFEST_BLOB_UNKNOWN");
        await AssertUnknownAsync(repository, "multi");
    }

    [Fact]
    public async Task Index_naming_a_deleted_child_is_manifest_blob_unknown()
    {
        var repository = OciClient.NewRepository();
        var child = await _oci.NewImageManifestAsync(repository);
        var childDigest = await _oci.PutManifestCreatedAsync(repository, OciClient.Sha256(child), child, OciClient.OciManifestType);
        using (var delete = await _oci.Http.DeleteAsync($"/v2/{repository}/manifests/{childDigest}"))
            Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        using var put = await _oci.PutManifestAsync(repository, "multi", OciClient.ImageIndex([(childDigest, child.Length, "amd64")]), OciClient.OciIndexType);
        await OciClient.AssertErrorAsync(put, HttpStatusCode.BadRequest, "MANIFEST_BLOB_UNKNOWN");
    }

    [Fact]
    public async Task Manifest_of_exactly_4_MiB_is_accepted()
    {
        var repository = OciClient.NewRepository();
        var manifest = await _oci.PaddedManifestAsync(repository, 4 * 1024 * 1024);
        await _oci.PutManifestCreatedAsync(repository, "big", manifest, OciClient.OciManifestType);
        await AssertManifestAsync(HttpMethod.Get, repository, "big", manifest, OciClient.OciManifestType);
    }

    [Fact]
    public async Task Manifest_over_4_MiB_is_413()
    {
        var repository = OciClient.NewRepository();
        var manifest = await _oci.PaddedManifestAsync(repository, 4 * 1024 * 1024 + 1);
        using (var declared = await _oci.PutManifestAsync(repository, "big", manifest, OciClient.OciManifestType))
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, declared.StatusCode);

        // Without a Content-Length the limit is enforced while reading.
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/v2/{repository}/manifests/big")
        {
            Content = new StreamContent(new UnseekableStream(manifest)),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(OciClient.OciManifestType);
        using (var streamed = await _oci.Http.SendAsync(request))
            await OciClient.AssertErrorAsync(streamed, HttpStatusCode.RequestEntityTooLarge, "SIZE_INVALID");
        await AssertUnknownAsync(repository, "big");
    }

    [Theory]
    [InlineData("application/vnd.docker.distribution.manifest.v1+prettyjws", """{"schemaVersion":1,"name":"x","tag":"latest","architecture":"amd64","fsLayers":[],"history":[],"signatures":[]}""")]
    [InlineData("application/vnd.docker.distribution.manifest.v1+json", """{"schemaVersion":1,"name":"x","tag":"latest","architecture":"amd64","fsLayers":[],"history":[]}""")]
    [InlineData("application/json", """{"schemaVersion":1,"name":"x","tag":"latest","architecture":"amd64","fsLayers":[],"history":[]}""")]
    [InlineData("application/vnd.oci.image.manifest.v1+json", """{"schemaVersion":1,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"a","digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":0},"layers":[]}""")]
    [InlineData("application/vnd.docker.distribution.manifest.v1+prettyjws", """{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v1+prettyjws","fsLayers":[]}""")]
    public async Task Schema_1_manifests_are_manifest_invalid(string contentType, string body)
    {
        var repository = OciClient.NewRepository();
        using var put = await _oci.PutManifestAsync(repository, "old", Encoding.UTF8.GetBytes(body), contentType);
        await OciClient.AssertErrorAsync(put, HttpStatusCode.BadRequest, "MANIFEST_INVALID");
    }

    [Theory]
    [InlineData("{")]
    [InlineData("not json at all")]
    [InlineData("[]")]
    [InlineData("null")]
    [InlineData("\"a string\"")]
    [InlineData("{}")]
    [InlineData("""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}""")]
    [InlineData("""{"schemaVersion":"2","mediaType":"application/vnd.oci.image.manifest.v1+json","config":{},"layers":[]}""")]
    [InlineData("""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"a","digest":"sha256:xyz","size":1},"layers":[]}""")]
    [InlineData("""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"a","digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":-1},"layers":[]}""")]
    [InlineData("""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"a","digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":0},"layers":[null]}""")]
    [InlineData("""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"a","digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":1e400},"layers":[]}""")]
    [InlineData("""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":"nope"}""")]
    [InlineData("""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":0}]}""")]
    [InlineData("""{"schemaVersion":2,"mediaType":"text/plain","config":{},"layers":[]}""")]
    [InlineData("""{"schemaVersion":2,"mediaType":5}""")]
    public async Task Invalid_manifest_bodies_are_manifest_invalid(string body)
    {
        var repository = OciClient.NewRepository();
        using var put = await _oci.PutManifestAsync(repository, "bad", Encoding.UTF8.GetBytes(body), "application/json");
        await OciClient.AssertErrorAsync(put, HttpStatusCode.BadRequest, "MANIFEST_INVALID");
    }

    [Fact]
    public async Task Deeply_nested_json_is_manifest_invalid()
    {
        var repository = OciClient.NewRepository();
        var body = "{\"schemaVersion\":2,\"annotations\":" + new string('[', 5000) + new string(']', 5000) + "}";
        using var put = await _oci.PutManifestAsync(repository, "deep", Encoding.UTF8.GetBytes(body), OciClient.OciManifestType);
        await OciClient.AssertErrorAsync(put, HttpStatusCode.BadRequest, "MANIFEST_INVALID");
    }

    [Fact]
    public async Task Empty_body_is_manifest_invalid()
    {
        var repository = OciClient.NewRepository();
        using var put = await _oci.PutManifestAsync(repository, "empty", [], OciClient.OciManifestType);
        await OciClient.AssertErrorAsync(put, HttpStatusCode.BadRequest, "MANIFEST_INVALID");
    }

    [Fact]
    public async Task Put_by_a_digest_that_does_not_match_is_digest_invalid()
    {
        var repository = OciClient.NewRepository();
        var manifest = await _oci.NewImageManifestAsync(repository);
        var wrong = OciClient.Sha256(OciClient.RandomBytes(10));
        using (var put = await _oci.PutManifestAsync(repository, wrong, manifest, OciClient.OciManifestType))
            await OciClient.AssertErrorAsync(put, HttpStatusCode.BadRequest, "DIGEST_INVALID");
        await AssertUnknownAsync(repository, wrong);
        await AssertUnknownAsync(repository, OciClient.Sha256(manifest));

        using var malformed = await _oci.PutManifestAsync(repository, "sha256:1234", manifest, OciClient.OciManifestType);
        await OciClient.AssertErrorAsync(malformed, HttpStatusCode.BadRequest, "DIGEST_INVALID");
    }

    [Theory]
    [InlineData("-leading-dash")]
    [InlineData(".leading-dot")]
    [InlineData("has!bang")]
    [InlineData("has%20space")]
    [InlineData("ünïcode")]
    public async Task Invalid_tag_is_400(string tag)
    {
        var repository = OciClient.NewRepository();
        var manifest = await _oci.NewImageManifestAsync(repository);
        using (var put = await _oci.PutManifestAsync(repository, tag, manifest, OciClient.OciManifestType))
            await OciClient.AssertErrorAsync(put, HttpStatusCode.BadRequest, "MANIFEST_INVALID");
        using (var get = await _oci.Http.GetAsync($"/v2/{repository}/manifests/{tag}"))
            Assert.Equal(HttpStatusCode.BadRequest, get.StatusCode);
        Assert.Empty(await _oci.ListTagsAsync(repository));
    }

    [Fact]
    public async Task Tag_length_limit_is_128()
    {
        var repository = OciClient.NewRepository();
        var manifest = await _oci.NewImageManifestAsync(repository);
        await _oci.PutManifestCreatedAsync(repository, new string('t', 128), manifest, OciClient.OciManifestType);
        using var put = await _oci.PutManifestAsync(repository, new string('t', 129), manifest, OciClient.OciManifestType);
        await OciClient.AssertErrorAsync(put, HttpStatusCode.BadRequest, "MANIFEST_INVALID");
        Assert.Equal([new string('t', 128)], await _oci.ListTagsAsync(repository));
    }

    [Fact]
    public async Task Subject_is_echoed_in_the_oci_subject_header()
    {
        var repository = OciClient.NewRepository();
        var (_, subject) = await _oci.PushImageAsync(repository, "base");
        var referrer = await _oci.NewImageManifestAsync(repository, subject: subject, artifactType: "application/vnd.example.sbom");
        using (var put = await _oci.PutManifestAsync(repository, OciClient.Sha256(referrer), referrer, OciClient.OciManifestType))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
            Assert.Equal(subject, OciClient.Header(put, "OCI-Subject"));
        }
        var plain = await _oci.NewImageManifestAsync(repository);
        using var plainPut = await _oci.PutManifestAsync(repository, "plain", plain, OciClient.OciManifestType);
        Assert.Equal(HttpStatusCode.Created, plainPut.StatusCode);
        Assert.Null(OciClient.OptionalHeader(plainPut, "OCI-Subject"));
    }

    [Fact]
    public async Task Delete_by_digest_ends_every_tag_on_it()
    {
        var repository = OciClient.NewRepository();
        var manifest = await _oci.NewImageManifestAsync(repository);
        var digest = await _oci.PutManifestCreatedAsync(repository, "one", manifest, OciClient.OciManifestType);
        await _oci.PutManifestCreatedAsync(repository, "two", manifest, OciClient.OciManifestType);
        var other = await _oci.NewImageManifestAsync(repository);
        await _oci.PutManifestCreatedAsync(repository, "other", other, OciClient.OciManifestType);
        // Warm any cache on the tags before deleting.
        await AssertManifestAsync(HttpMethod.Get, repository, "one", manifest, OciClient.OciManifestType);
        await AssertManifestAsync(HttpMethod.Get, repository, "two", manifest, OciClient.OciManifestType);

        using (var delete = await _oci.Http.DeleteAsync($"/v2/{repository}/manifests/{digest}"))
            Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);

        await AssertUnknownAsync(repository, digest);
        await AssertUnknownAsync(repository, "one");
        await AssertUnknownAsync(repository, "two");
        Assert.Equal(["other"], await _oci.ListTagsAsync(repository));
        using var again = await _oci.Http.DeleteAsync($"/v2/{repository}/manifests/{digest}");
        await OciClient.AssertErrorAsync(again, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
    }

    [Fact]
    public async Task Delete_by_tag_removes_only_that_tag()
    {
        var repository = OciClient.NewRepository();
        var manifest = await _oci.NewImageManifestAsync(repository);
        var digest = await _oci.PutManifestCreatedAsync(repository, "keep", manifest, OciClient.OciManifestType);
        await _oci.PutManifestCreatedAsync(repository, "drop", manifest, OciClient.OciManifestType);
        await AssertManifestAsync(HttpMethod.Get, repository, "drop", manifest, OciClient.OciManifestType);

        using (var delete = await _oci.Http.DeleteAsync($"/v2/{repository}/manifests/drop"))
            Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);

        await AssertUnknownAsync(repository, "drop");
        await AssertManifestAsync(HttpMethod.Get, repository, "keep", manifest, OciClient.OciManifestType);
        await AssertManifestAsync(HttpMethod.Get, repository, digest, manifest, OciClient.OciManifestType);
        Assert.Equal(["keep"], await _oci.ListTagsAsync(repository));
        using var again = await _oci.Http.DeleteAsync($"/v2/{repository}/manifests/drop");
        await OciClient.AssertErrorAsync(again, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
    }

    [Fact]
    public async Task Re_push_after_delete_works()
    {
        var repository = OciClient.NewRepository();
        var manifest = await _oci.NewImageManifestAsync(repository);
        var digest = await _oci.PutManifestCreatedAsync(repository, "latest", manifest, OciClient.OciManifestType);
        await AssertManifestAsync(HttpMethod.Get, repository, digest, manifest, OciClient.OciManifestType);
        using (var delete = await _oci.Http.DeleteAsync($"/v2/{repository}/manifests/{digest}"))
            Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        await AssertUnknownAsync(repository, "latest");

        Assert.Equal(digest, await _oci.PutManifestCreatedAsync(repository, "latest", manifest, OciClient.OciManifestType));
        await AssertManifestAsync(HttpMethod.Get, repository, "latest", manifest, OciClient.OciManifestType);
        await AssertManifestAsync(HttpMethod.Get, repository, digest, manifest, OciClient.OciManifestType);
        Assert.Equal(["latest"], await _oci.ListTagsAsync(repository));
    }

    [Fact]
    public async Task Pushing_a_tag_again_moves_it()
    {
        var repository = OciClient.NewRepository();
        var first = await _oci.NewImageManifestAsync(repository);
        var second = await _oci.NewImageManifestAsync(repository);
        await _oci.PutManifestCreatedAsync(repository, "latest", first, OciClient.OciManifestType);
        await AssertManifestAsync(HttpMethod.Get, repository, "latest", first, OciClient.OciManifestType);
        await _oci.PutManifestCreatedAsync(repository, "latest", second, OciClient.OciManifestType);
        await AssertManifestAsync(HttpMethod.Get, repository, "latest", second, OciClient.OciManifestType);
        await AssertManifestAsync(HttpMethod.Get, repository, OciClient.Sha256(first), first, OciClient.OciManifestType);
    }

    [Fact]
    public async Task Unknown_manifest_and_unknown_repository()
    {
        var repository = OciClient.NewRepository();
        await _oci.PushImageAsync(repository, "present");
        await AssertUnknownAsync(repository, "absent");
        await AssertUnknownAsync(repository, OciClient.Sha256(OciClient.RandomBytes(4)));
        using (var deleteTag = await _oci.Http.DeleteAsync($"/v2/{repository}/manifests/absent"))
            await OciClient.AssertErrorAsync(deleteTag, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        using (var deleteDigest = await _oci.Http.DeleteAsync($"/v2/{repository}/manifests/{OciClient.Sha256([7])}"))
            await OciClient.AssertErrorAsync(deleteDigest, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");

        var unknown = OciClient.NewRepository();
        using (var get = await _oci.Http.GetAsync($"/v2/{unknown}/manifests/latest"))
            await OciClient.AssertErrorAsync(get, HttpStatusCode.NotFound, "NAME_UNKNOWN");
        using (var delete = await _oci.Http.DeleteAsync($"/v2/{unknown}/manifests/latest"))
            await OciClient.AssertErrorAsync(delete, HttpStatusCode.NotFound, "NAME_UNKNOWN");
    }

    [Fact]
    public async Task Foreign_layers_need_not_be_in_the_registry()
    {
        var repository = OciClient.NewRepository();
        var (config, configSize, layer, layerSize) = await _oci.PushConfigAndLayerAsync(repository);
        var manifest = JsonSerializer.SerializeToUtf8Bytes(new
        {
            schemaVersion = 2,
            mediaType = OciClient.DockerManifestType,
            config = new { mediaType = "application/vnd.docker.container.image.v1+json", digest = config, size = configSize },
            layers = new object[]
            {
                new { mediaType = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", digest = OciClient.Sha256([1, 2, 3]), size = 3, urls = new[] { "https://example.invalid/layer" } },
                new { mediaType = "application/vnd.docker.image.rootfs.diff.tar.gzip", digest = layer, size = layerSize },
            },
        });
        await _oci.PutManifestCreatedAsync(repository, "windows", manifest, OciClient.DockerManifestType);
        await AssertManifestAsync(HttpMethod.Get, repository, "windows", manifest, OciClient.DockerManifestType);
    }

    /// <summary>A body HttpClient cannot measure, so it goes out with chunked transfer encoding.</summary>
    private sealed class UnseekableStream(byte[] content) : MemoryStream(content)
    {
        public override bool CanSeek => false;
    }
}
