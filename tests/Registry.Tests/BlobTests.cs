using System.Net;
using System.Net.Http.Headers;

namespace Berth.Registry.Tests;

/// <summary>GET, HEAD and DELETE of /v2/&lt;name&gt;/blobs/&lt;digest&gt;.</summary>
public sealed class BlobTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly OciClient _oci = new(fixture.CreateClient());

    private async Task<(string Repository, byte[] Content, string Digest)> PushAsync(int size = 1000)
    {
        var repository = OciClient.NewRepository();
        var content = OciClient.RandomBytes(size);
        return (repository, content, await _oci.PushBlobAsync(repository, content));
    }

    [Fact]
    public async Task Head_reports_length_and_digest_without_a_body()
    {
        var (repository, content, digest) = await PushAsync();
        using var response = await _oci.SendAsync(HttpMethod.Head, $"/v2/{repository}/blobs/{digest}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(content.Length, response.Content.Headers.ContentLength);
        Assert.Equal(digest, OciClient.Header(response, "Docker-Content-Digest"));
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Get_returns_the_exact_bytes_with_length_and_digest()
    {
        var (repository, content, digest) = await PushAsync(70_000);
        using var response = await _oci.Http.GetAsync($"/v2/{repository}/blobs/{digest}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(content.Length, response.Content.Headers.ContentLength);
        Assert.Equal(digest, OciClient.Header(response, "Docker-Content-Digest"));
        Assert.Equal("application/octet-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(content, await response.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData(100L, 199L, 100, 100)]
    [InlineData(0L, 0L, 0, 1)]
    [InlineData(900L, null, 900, 100)]
    [InlineData(990L, 5000L, 990, 10)]
    public async Task Range_request_returns_206_with_the_requested_bytes(long from, long? to, int expectedStart, int expectedLength)
    {
        var (repository, content, digest) = await PushAsync();
        using var response = await _oci.SendAsync(HttpMethod.Get, $"/v2/{repository}/blobs/{digest}",
            configure: r => r.Headers.Range = new RangeHeaderValue(from, to));
        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal(content.AsSpan(expectedStart, expectedLength).ToArray(), await response.Content.ReadAsByteArrayAsync());
        var range = response.Content.Headers.ContentRange!;
        Assert.Equal(expectedStart, range.From);
        Assert.Equal(expectedStart + expectedLength - 1, range.To);
        Assert.Equal(content.Length, range.Length);
    }

    [Fact]
    public async Task Suffix_range_returns_the_last_bytes()
    {
        var (repository, content, digest) = await PushAsync();
        using var response = await _oci.SendAsync(HttpMethod.Get, $"/v2/{repository}/blobs/{digest}",
            configure: r => r.Headers.Range = new RangeHeaderValue(null, 50));
        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal(content[^50..], await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Unsatisfiable_range_is_416_with_the_blob_length()
    {
        var (repository, content, digest) = await PushAsync();
        using var response = await _oci.SendAsync(HttpMethod.Get, $"/v2/{repository}/blobs/{digest}",
            configure: r => r.Headers.Range = new RangeHeaderValue(5000, 6000));
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, response.StatusCode);
        var range = response.Content.Headers.ContentRange!;
        Assert.False(range.HasRange);
        Assert.Equal(content.Length, range.Length);
    }

    [Fact]
    public async Task Delete_is_202_and_the_blob_is_then_unknown()
    {
        var (repository, _, digest) = await PushAsync();
        using (var delete = await _oci.Http.DeleteAsync($"/v2/{repository}/blobs/{digest}"))
            Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);

        using (var head = await _oci.SendAsync(HttpMethod.Head, $"/v2/{repository}/blobs/{digest}"))
            Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
        using (var get = await _oci.Http.GetAsync($"/v2/{repository}/blobs/{digest}"))
            await OciClient.AssertErrorAsync(get, HttpStatusCode.NotFound, "BLOB_UNKNOWN");
        using (var again = await _oci.Http.DeleteAsync($"/v2/{repository}/blobs/{digest}"))
            await OciClient.AssertErrorAsync(again, HttpStatusCode.NotFound, "BLOB_UNKNOWN");
    }

    [Fact]
    public async Task Delete_unlinks_only_from_that_repository()
    {
        var (first, content, digest) = await PushAsync();
        var second = OciClient.NewRepository();
        await _oci.PushBlobAsync(second, content);

        using (var delete = await _oci.Http.DeleteAsync($"/v2/{first}/blobs/{digest}"))
            Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);

        using var get = await _oci.Http.GetAsync($"/v2/{second}/blobs/{digest}");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(content, await get.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Unknown_blob_in_a_known_repository_is_blob_unknown()
    {
        var (repository, _, _) = await PushAsync();
        var unknown = OciClient.Sha256(OciClient.RandomBytes(32));
        using (var get = await _oci.Http.GetAsync($"/v2/{repository}/blobs/{unknown}"))
            await OciClient.AssertErrorAsync(get, HttpStatusCode.NotFound, "BLOB_UNKNOWN");
        using (var head = await _oci.SendAsync(HttpMethod.Head, $"/v2/{repository}/blobs/{unknown}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
            Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        }
    }

    [Fact]
    public async Task A_blob_in_another_repository_is_not_served_here()
    {
        var (_, _, digest) = await PushAsync();
        var (other, _, _) = await PushAsync();
        using var get = await _oci.Http.GetAsync($"/v2/{other}/blobs/{digest}");
        await OciClient.AssertErrorAsync(get, HttpStatusCode.NotFound, "BLOB_UNKNOWN");
    }

    [Theory]
    [InlineData("notadigest")]
    [InlineData("sha256:abc")]
    [InlineData("md5:d41d8cd98f00b204e9800998ecf8427e")]
    [InlineData("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855")]
    [InlineData("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85z")]
    [InlineData("sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData(":e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    public async Task Malformed_digest_is_digest_invalid(string digest)
    {
        var (repository, _, _) = await PushAsync();
        using (var get = await _oci.Http.GetAsync($"/v2/{repository}/blobs/{digest}"))
            await OciClient.AssertErrorAsync(get, HttpStatusCode.BadRequest, "DIGEST_INVALID");
        using (var delete = await _oci.Http.DeleteAsync($"/v2/{repository}/blobs/{digest}"))
            await OciClient.AssertErrorAsync(delete, HttpStatusCode.BadRequest, "DIGEST_INVALID");
    }

    [Fact]
    public async Task Unknown_repository_is_name_unknown()
    {
        var repository = OciClient.NewRepository();
        var digest = OciClient.Sha256(OciClient.RandomBytes(32));
        using (var get = await _oci.Http.GetAsync($"/v2/{repository}/blobs/{digest}"))
            await OciClient.AssertErrorAsync(get, HttpStatusCode.NotFound, "NAME_UNKNOWN");
        using (var head = await _oci.SendAsync(HttpMethod.Head, $"/v2/{repository}/blobs/{digest}"))
            Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
        using (var delete = await _oci.Http.DeleteAsync($"/v2/{repository}/blobs/{digest}"))
            await OciClient.AssertErrorAsync(delete, HttpStatusCode.NotFound, "NAME_UNKNOWN");
    }

    [Fact]
    public async Task Unsupported_method_on_a_blob_is_an_oci_error()
    {
        var (repository, content, digest) = await PushAsync();
        using var response = await _oci.SendAsync(HttpMethod.Put, $"/v2/{repository}/blobs/{digest}", content);
        await OciClient.AssertErrorAsync(response, HttpStatusCode.MethodNotAllowed, "UNSUPPORTED");
    }
}
