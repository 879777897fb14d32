using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Berth.Registry.Tests;

/// <summary>/v2/&lt;name&gt;/blobs/uploads/: monolithic, chunked and streamed uploads, status, cancel, and mounts.</summary>
public sealed class UploadTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly OciClient _oci = new(fixture.CreateClient());

    private Task<HttpResponseMessage> PatchAsync(string location, byte[] chunk, string? contentRange) =>
        _oci.SendAsync(HttpMethod.Patch, location, chunk, r =>
        {
            if (contentRange is not null) r.Content!.Headers.TryAddWithoutValidation("Content-Range", contentRange);
        });

    private async Task AssertBlobAsync(string repository, string digest, byte[] content)
    {
        using var response = await _oci.Http.GetAsync($"/v2/{repository}/blobs/{digest}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(content, await response.Content.ReadAsByteArrayAsync());
    }

    private async Task AssertBlobAbsentAsync(string repository, string digest)
    {
        using var head = await _oci.SendAsync(HttpMethod.Head, $"/v2/{repository}/blobs/{digest}");
        Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
        Assert.False(File.Exists(OciClient.BlobFile(fixture.DataDirectory, digest)), $"blob file for {digest} exists");
    }

    private static string UploadId(string location) => location.TrimEnd('/').Split('/')[^1].Split('?')[0];

    [Fact]
    public async Task Monolithic_post_with_digest_creates_the_blob()
    {
        var repository = OciClient.NewRepository();
        var content = OciClient.RandomBytes(4096);
        var digest = OciClient.Sha256(content);
        using var response = await _oci.Http.PostAsync($"/v2/{repository}/blobs/uploads/?digest={digest}", new ByteArrayContent(content));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(digest, OciClient.Header(response, "Docker-Content-Digest"));
        Assert.EndsWith($"/v2/{repository}/blobs/{digest}", response.Headers.Location!.ToString());
        await AssertBlobAsync(repository, digest, content);
    }

    [Fact]
    public async Task Empty_blob_can_be_pushed_and_read()
    {
        var repository = OciClient.NewRepository();
        var digest = await _oci.PushBlobAsync(repository, []);
        await AssertBlobAsync(repository, digest, []);
    }

    [Fact]
    public async Task Post_then_put_with_the_whole_body()
    {
        var repository = OciClient.NewRepository();
        var content = OciClient.RandomBytes(3000);
        var digest = OciClient.Sha256(content);

        using var start = await _oci.Http.PostAsync($"/v2/{repository}/blobs/uploads/", null);
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var location = start.Headers.Location!.ToString();
        Assert.Contains($"/v2/{repository}/blobs/uploads/", location);
        Assert.Equal(UploadId(location), OciClient.Header(start, "Docker-Upload-UUID"));
        Assert.Equal("0-0", OciClient.Header(start, "Range"));

        using var put = await _oci.SendAsync(HttpMethod.Put, OciClient.WithQuery(location, $"digest={digest}"), content);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal(digest, OciClient.Header(put, "Docker-Content-Digest"));
        Assert.EndsWith($"/v2/{repository}/blobs/{digest}", put.Headers.Location!.ToString());
        await AssertBlobAsync(repository, digest, content);
        Assert.False(File.Exists(Path.Combine(OciClient.UploadsDirectory(fixture.DataDirectory), UploadId(location))), "staged upload left behind");
    }

    [Fact]
    public async Task Chunked_patches_with_content_range_then_put()
    {
        var repository = OciClient.NewRepository();
        var content = OciClient.RandomBytes(250);
        var digest = OciClient.Sha256(content);
        var location = await _oci.StartUploadAsync(repository);

        using (var first = await PatchAsync(location, content[..100], "0-99"))
        {
            Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
            Assert.Equal("0-99", OciClient.Header(first, "Range"));
            location = first.Headers.Location!.ToString();
            Assert.Contains($"/v2/{repository}/blobs/uploads/", location);
        }
        using (var second = await PatchAsync(location, content[100..], "100-249"))
        {
            Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
            Assert.Equal("0-249", OciClient.Header(second, "Range"));
            location = second.Headers.Location!.ToString();
        }
        using (var put = await _oci.SendAsync(HttpMethod.Put, OciClient.WithQuery(location, $"digest={digest}")))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
            Assert.Equal(digest, OciClient.Header(put, "Docker-Content-Digest"));
        }
        await AssertBlobAsync(repository, digest, content);
    }

    [Fact]
    public async Task Last_chunk_may_come_with_the_put()
    {
        var repository = OciClient.NewRepository();
        var content = OciClient.RandomBytes(300);
        var digest = OciClient.Sha256(content);
        var location = await _oci.StartUploadAsync(repository);
        using (var patch = await PatchAsync(location, content[..120], "0-119"))
            Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);
        using (var put = await _oci.SendAsync(HttpMethod.Put, OciClient.WithQuery(location, $"digest={digest}"), content[120..]))
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        await AssertBlobAsync(repository, digest, content);
    }

    [Fact]
    public async Task Out_of_order_chunk_is_416_with_the_current_range_and_the_upload_survives()
    {
        var repository = OciClient.NewRepository();
        var content = OciClient.RandomBytes(200);
        var digest = OciClient.Sha256(content);
        var location = await _oci.StartUploadAsync(repository);
        using (var first = await PatchAsync(location, content[..100], "0-99"))
            Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);

        using (var skip = await PatchAsync(location, content[150..], "150-199"))
        {
            Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, skip.StatusCode);
            Assert.Equal("0-99", OciClient.Header(skip, "Range"));
        }

        // The refused chunk left nothing behind: the right chunk still fits and the digest matches.
        using (var next = await PatchAsync(location, content[100..], "100-199"))
        {
            Assert.Equal(HttpStatusCode.Accepted, next.StatusCode);
            Assert.Equal("0-199", OciClient.Header(next, "Range"));
        }
        using (var put = await _oci.SendAsync(HttpMethod.Put, OciClient.WithQuery(location, $"digest={digest}")))
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        await AssertBlobAsync(repository, digest, content);
    }

    [Fact]
    public async Task Repeated_chunk_is_416_with_the_current_range()
    {
        var repository = OciClient.NewRepository();
        var chunk = OciClient.RandomBytes(100);
        var location = await _oci.StartUploadAsync(repository);
        using (var first = await PatchAsync(location, chunk, "0-99"))
            Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        using (var again = await PatchAsync(location, chunk, "0-99"))
        {
            Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, again.StatusCode);
            Assert.Equal("0-99", OciClient.Header(again, "Range"));
        }
        using var status = await _oci.Http.GetAsync(location);
        Assert.Equal("0-99", OciClient.Header(status, "Range"));
    }

    [Fact]
    public async Task Content_range_that_disagrees_with_content_length_is_refused()
    {
        var repository = OciClient.NewRepository();
        var location = await _oci.StartUploadAsync(repository);
        using var patch = await PatchAsync(location, OciClient.RandomBytes(100), "0-49");
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, patch.StatusCode);
        using var status = await _oci.Http.GetAsync(location);
        Assert.Equal("0-0", OciClient.Header(status, "Range"));
    }

    [Fact]
    public async Task Status_is_204_with_range_and_location()
    {
        var repository = OciClient.NewRepository();
        var location = await _oci.StartUploadAsync(repository);
        using (var empty = await _oci.Http.GetAsync(location))
        {
            Assert.Equal(HttpStatusCode.NoContent, empty.StatusCode);
            Assert.Equal("0-0", OciClient.Header(empty, "Range"));
            Assert.Contains($"/v2/{repository}/blobs/uploads/{UploadId(location)}", empty.Headers.Location!.ToString());
            Assert.Equal(UploadId(location), OciClient.Header(empty, "Docker-Upload-UUID"));
        }
        using (var patch = await PatchAsync(location, OciClient.RandomBytes(50), "0-49"))
            Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);
        using var status = await _oci.Http.GetAsync(location);
        Assert.Equal(HttpStatusCode.NoContent, status.StatusCode);
        Assert.Equal("0-49", OciClient.Header(status, "Range"));
        Assert.Contains($"/v2/{repository}/blobs/uploads/{UploadId(location)}", status.Headers.Location!.ToString());
    }

    [Fact]
    public async Task Streamed_patches_without_content_range()
    {
        var repository = OciClient.NewRepository();
        var content = OciClient.RandomBytes(3 * 1024 * 1024 + 17);
        var digest = OciClient.Sha256(content);
        var location = await _oci.StartUploadAsync(repository);

        // No Content-Length either: chunked transfer encoding, as a streaming client sends it.
        using (var request = new HttpRequestMessage(HttpMethod.Patch, location) { Content = new StreamContent(new UnknownLengthStream(content[..(2 * 1024 * 1024)])) })
        {
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            using var first = await _oci.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
            Assert.Equal($"0-{2 * 1024 * 1024 - 1}", OciClient.Header(first, "Range"));
            location = first.Headers.Location!.ToString();
        }
        using (var second = await PatchAsync(location, content[(2 * 1024 * 1024)..], null))
        {
            Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
            Assert.Equal($"0-{content.Length - 1}", OciClient.Header(second, "Range"));
        }
        using (var put = await _oci.SendAsync(HttpMethod.Put, OciClient.WithQuery(location, $"digest={digest}")))
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        await AssertBlobAsync(repository, digest, content);
    }

    [Fact]
    public async Task Delete_cancels_the_upload()
    {
        var repository = OciClient.NewRepository();
        var location = await _oci.StartUploadAsync(repository);
        using (var patch = await PatchAsync(location, OciClient.RandomBytes(64), "0-63"))
            Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);
        var staged = Path.Combine(OciClient.UploadsDirectory(fixture.DataDirectory), UploadId(location));
        Assert.True(File.Exists(staged));

        using (var delete = await _oci.Http.DeleteAsync(location))
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);

        Assert.False(File.Exists(staged), "cancelled upload's staged file is still there");
        using (var status = await _oci.Http.GetAsync(location))
            await OciClient.AssertErrorAsync(status, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
        using (var patch = await PatchAsync(location, OciClient.RandomBytes(8), "64-71"))
            await OciClient.AssertErrorAsync(patch, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
        using (var put = await _oci.SendAsync(HttpMethod.Put, OciClient.WithQuery(location, $"digest={OciClient.Sha256([])}")))
            await OciClient.AssertErrorAsync(put, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
        using (var again = await _oci.Http.DeleteAsync(location))
            await OciClient.AssertErrorAsync(again, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
    }

    [Fact]
    public async Task Finished_upload_cannot_be_reused()
    {
        var repository = OciClient.NewRepository();
        var content = OciClient.RandomBytes(10);
        var location = await _oci.StartUploadAsync(repository);
        using (var put = await _oci.SendAsync(HttpMethod.Put, OciClient.WithQuery(location, $"digest={OciClient.Sha256(content)}"), content))
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        using var patch = await PatchAsync(location, content, "10-19");
        await OciClient.AssertErrorAsync(patch, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("PATCH")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    public async Task Unknown_or_garbage_upload_id_is_blob_upload_unknown(string method)
    {
        var repository = OciClient.NewRepository();
        await _oci.PushBlobAsync(repository, [1, 2, 3]);
        var other = OciClient.NewRepository();
        var foreignSession = await _oci.StartUploadAsync(other);
        var digest = OciClient.Sha256([9]);
        string[] ids = [Guid.NewGuid().ToString("N"), Guid.NewGuid().ToString("D"), "not-an-upload", "%7B%7D", new string('9', 300), UploadId(foreignSession)];
        foreach (var id in ids)
        {
            using var response = await _oci.SendAsync(new HttpMethod(method), $"/v2/{repository}/blobs/uploads/{id}?digest={digest}", method is "PATCH" or "PUT" ? [9] : null);
            await OciClient.AssertErrorAsync(response, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
        }
        // Same for a repository that does not exist at all.
        using var unknownRepository = await _oci.SendAsync(new HttpMethod(method), $"/v2/{OciClient.NewRepository()}/blobs/uploads/{Guid.NewGuid():N}");
        await OciClient.AssertErrorAsync(unknownRepository, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
    }

    [Fact]
    public async Task Put_without_digest_is_digest_invalid()
    {
        var repository = OciClient.NewRepository();
        var location = await _oci.StartUploadAsync(repository);
        using (var put = await _oci.SendAsync(HttpMethod.Put, location, OciClient.RandomBytes(10)))
            await OciClient.AssertErrorAsync(put, HttpStatusCode.BadRequest, "DIGEST_INVALID");
        using (var garbage = await _oci.SendAsync(HttpMethod.Put, OciClient.WithQuery(location, "digest=sha256:xyz"), OciClient.RandomBytes(10)))
            await OciClient.AssertErrorAsync(garbage, HttpStatusCode.BadRequest, "DIGEST_INVALID");
    }

    [Fact]
    public async Task Post_with_malformed_digest_is_digest_invalid()
    {
        var repository = OciClient.NewRepository();
        using var response = await _oci.Http.PostAsync($"/v2/{repository}/blobs/uploads/?digest=sha256:nothex", new ByteArrayContent([1, 2]));
        await OciClient.AssertErrorAsync(response, HttpStatusCode.BadRequest, "DIGEST_INVALID");
    }

    [Fact]
    public async Task Digest_mismatch_on_put_is_digest_invalid_and_keeps_nothing()
    {
        var repository = OciClient.NewRepository();
        var content = OciClient.RandomBytes(500);
        var claimed = OciClient.Sha256(OciClient.RandomBytes(500));
        var location = await _oci.StartUploadAsync(repository);
        using (var patch = await PatchAsync(location, content[..200], "0-199"))
            Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);

        using (var put = await _oci.SendAsync(HttpMethod.Put, OciClient.WithQuery(location, $"digest={claimed}"), content[200..]))
            await OciClient.AssertErrorAsync(put, HttpStatusCode.BadRequest, "DIGEST_INVALID");

        await AssertBlobAbsentAsync(repository, claimed);
        await AssertBlobAbsentAsync(repository, OciClient.Sha256(content));
        Assert.DoesNotContain(UploadId(location), OciClient.StagedUploads(fixture.DataDirectory));
        using var status = await _oci.Http.GetAsync(location);
        await OciClient.AssertErrorAsync(status, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
    }

    [Fact]
    public async Task Digest_mismatch_on_monolithic_post_is_digest_invalid_and_keeps_nothing()
    {
        var repository = OciClient.NewRepository();
        var content = OciClient.RandomBytes(2000);
        var claimed = OciClient.Sha256(OciClient.RandomBytes(2000));
        var stagedBefore = OciClient.StagedUploads(fixture.DataDirectory);

        using (var response = await _oci.Http.PostAsync($"/v2/{repository}/blobs/uploads/?digest={claimed}", new ByteArrayContent(content)))
            await OciClient.AssertErrorAsync(response, HttpStatusCode.BadRequest, "DIGEST_INVALID");

        await AssertBlobAbsentAsync(repository, claimed);
        await AssertBlobAbsentAsync(repository, OciClient.Sha256(content));
        Assert.Empty(OciClient.StagedUploads(fixture.DataDirectory).Except(stagedBefore));
    }

    [Fact]
    public async Task Sha512_digests_work_end_to_end()
    {
        var repository = OciClient.NewRepository();

        // Monolithic.
        var layer = OciClient.RandomBytes(5000);
        var layerDigest = OciClient.Sha512(layer);
        using (var post = await _oci.Http.PostAsync($"/v2/{repository}/blobs/uploads/?digest={layerDigest}", new ByteArrayContent(layer)))
        {
            Assert.Equal(HttpStatusCode.Created, post.StatusCode);
            Assert.Equal(layerDigest, OciClient.Header(post, "Docker-Content-Digest"));
        }
        Assert.True(File.Exists(OciClient.BlobFile(fixture.DataDirectory, layerDigest)));
        using (var head = await _oci.SendAsync(HttpMethod.Head, $"/v2/{repository}/blobs/{layerDigest}"))
        {
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            Assert.Equal(layerDigest, OciClient.Header(head, "Docker-Content-Digest"));
            Assert.Equal(layer.Length, head.Content.Headers.ContentLength);
        }
        await AssertBlobAsync(repository, layerDigest, layer);

        // Chunked, finished with a sha512 digest.
        var config = Encoding.UTF8.GetBytes("""{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}""");
        var configDigest = OciClient.Sha512(config);
        var location = await _oci.StartUploadAsync(repository);
        using (var patch = await PatchAsync(location, config[..10], "0-9"))
            Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);
        using (var put = await _oci.SendAsync(HttpMethod.Put, OciClient.WithQuery(location, $"digest={configDigest}"), config[10..]))
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        await AssertBlobAsync(repository, configDigest, config);

        // A wrong sha512 is refused like a wrong sha256.
        using (var wrong = await _oci.Http.PostAsync($"/v2/{repository}/blobs/uploads/?digest={OciClient.Sha512([1])}", new ByteArrayContent([2])))
            await OciClient.AssertErrorAsync(wrong, HttpStatusCode.BadRequest, "DIGEST_INVALID");

        // A manifest over sha512 blobs, pushed and fetched by its own sha512 digest.
        var manifest = OciClient.ImageManifest(configDigest, config.Length, [(layerDigest, layer.Length)]);
        var manifestDigest = OciClient.Sha512(manifest);
        var returned = await _oci.PutManifestCreatedAsync(repository, manifestDigest, manifest, OciClient.OciManifestType);
        Assert.Equal(manifestDigest, returned);
        using var get = await _oci.Http.GetAsync($"/v2/{repository}/manifests/{manifestDigest}");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(manifestDigest, OciClient.Header(get, "Docker-Content-Digest"));
        Assert.Equal(manifest, await get.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Mount_from_a_repository_that_has_the_blob_is_201()
    {
        var source = OciClient.NewRepository();
        var target = OciClient.NewRepository();
        var content = OciClient.RandomBytes(777);
        var digest = await _oci.PushBlobAsync(source, content);
        var stagedBefore = OciClient.StagedUploads(fixture.DataDirectory);

        using var mount = await _oci.Http.PostAsync($"/v2/{target}/blobs/uploads/?mount={digest}&from={source}", null);
        Assert.Equal(HttpStatusCode.Created, mount.StatusCode);
        Assert.Equal(digest, OciClient.Header(mount, "Docker-Content-Digest"));
        Assert.EndsWith($"/v2/{target}/blobs/{digest}", mount.Headers.Location!.ToString());
        await AssertBlobAsync(target, digest, content);
        Assert.Empty(OciClient.StagedUploads(fixture.DataDirectory).Except(stagedBefore));
    }

    [Fact]
    public async Task Mount_from_a_repository_without_the_blob_starts_an_upload()
    {
        var elsewhere = OciClient.NewRepository();
        var content = OciClient.RandomBytes(100);
        var digest = await _oci.PushBlobAsync(elsewhere, content);
        var without = OciClient.NewRepository();
        await _oci.PushBlobAsync(without, [1]);
        var target = OciClient.NewRepository();

        using var mount = await _oci.Http.PostAsync($"/v2/{target}/blobs/uploads/?mount={digest}&from={without}", null);
        Assert.Equal(HttpStatusCode.Accepted, mount.StatusCode);
        var location = mount.Headers.Location!.ToString();
        Assert.Contains($"/v2/{target}/blobs/uploads/", location);
        using (var notMounted = await _oci.SendAsync(HttpMethod.Head, $"/v2/{target}/blobs/{digest}"))
            Assert.Equal(HttpStatusCode.NotFound, notMounted.StatusCode);

        // The session it handed out is a real one.
        using (var put = await _oci.SendAsync(HttpMethod.Put, OciClient.WithQuery(location, $"digest={digest}"), content))
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        await AssertBlobAsync(target, digest, content);
    }

    [Fact]
    public async Task Mount_without_from_finds_the_blob_elsewhere()
    {
        var source = OciClient.NewRepository();
        var target = OciClient.NewRepository();
        var content = OciClient.RandomBytes(321);
        var digest = await _oci.PushBlobAsync(source, content);

        using var mount = await _oci.Http.PostAsync($"/v2/{target}/blobs/uploads/?mount={digest}", null);
        Assert.Equal(HttpStatusCode.Created, mount.StatusCode);
        Assert.Equal(digest, OciClient.Header(mount, "Docker-Content-Digest"));
        Assert.EndsWith($"/v2/{target}/blobs/{digest}", mount.Headers.Location!.ToString());
        await AssertBlobAsync(target, digest, content);
    }

    [Fact]
    public async Task Mount_of_an_unknown_digest_starts_an_upload()
    {
        var target = OciClient.NewRepository();
        var digest = OciClient.Sha256(OciClient.RandomBytes(64));
        using (var mount = await _oci.Http.PostAsync($"/v2/{target}/blobs/uploads/?mount={digest}&from={OciClient.NewRepository()}", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, mount.StatusCode);
            Assert.Contains($"/v2/{target}/blobs/uploads/", mount.Headers.Location!.ToString());
        }
        using (var automatic = await _oci.Http.PostAsync($"/v2/{target}/blobs/uploads/?mount={digest}", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, automatic.StatusCode);
            Assert.Contains($"/v2/{target}/blobs/uploads/", automatic.Headers.Location!.ToString());
        }
        using var head = await _oci.SendAsync(HttpMethod.Head, $"/v2/{target}/blobs/{digest}");
        Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
    }

    [Fact]
    public async Task Mount_from_an_invalid_repository_name_is_name_invalid()
    {
        var target = OciClient.NewRepository();
        var digest = OciClient.Sha256([1]);
        using var mount = await _oci.Http.PostAsync($"/v2/{target}/blobs/uploads/?mount={digest}&from=Not/Valid", null);
        await OciClient.AssertErrorAsync(mount, HttpStatusCode.BadRequest, "NAME_INVALID");
    }

    /// <summary>A body whose length HttpClient cannot know, so it is sent with chunked transfer encoding.</summary>
    private sealed class UnknownLengthStream(byte[] content) : MemoryStream(content)
    {
        public override bool CanSeek => false;
    }
}
