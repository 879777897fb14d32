using System.Net;
using System.Security.Cryptography;
using Berth.TestSupport;

namespace Berth.EndToEnd.Tests;

/// <summary>The Gateway streams blobs of any size, limits other routes, and makes Location headers point at itself.</summary>
public sealed class GatewayTests(BerthStack stack) : IClassFixture<BerthStack>
{
    [Fact]
    public async Task Location_headers_point_at_the_gateway()
    {
        using var http = stack.Gateway.CreateClient();
        using var response = await http.PostAsync("/v2/gw/location/blobs/uploads/", null);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var location = response.Headers.Location!;
        Assert.True(location.IsAbsoluteUri);
        Assert.Equal(stack.Gateway.BaseAddress.Authority, location.Authority);
    }

    [Fact]
    public async Task A_blob_larger_than_the_default_body_limit_streams_through_in_both_directions()
    {
        // 64 MiB: over Kestrel's 30 MB default, so only a per-route limit lets it pass.
        var blob = new byte[64 * 1024 * 1024];
        Random.Shared.NextBytes(blob);
        var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(blob));
        using var http = stack.Gateway.CreateClient();
        using (var push = await http.PostAsync($"/v2/gw/large/blobs/uploads/?digest={digest}", new ByteArrayContent(blob)))
            Assert.Equal(HttpStatusCode.Created, push.StatusCode);

        using var pull = await http.GetAsync($"/v2/gw/large/blobs/{digest}", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, pull.StatusCode);
        Assert.Equal(blob.Length, pull.Content.Headers.ContentLength);
        await using var body = await pull.Content.ReadAsStreamAsync();
        Assert.Equal(digest, "sha256:" + Convert.ToHexStringLower(await SHA256.HashDataAsync(body)));
    }

    [Fact]
    public async Task A_chunked_upload_through_the_gateway_completes()
    {
        using var http = stack.Gateway.CreateClient();
        var blob = new byte[3 * 1024 * 1024 + 17];
        Random.Shared.NextBytes(blob);
        var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(blob));
        using var finish = await ChunkedUpload.PushAsync(http, "gw/chunked", blob, digest, 1024 * 1024, (patch, end) =>
        {
            Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);
            Assert.Equal($"0-{end}", patch.Headers.GetValues("Range").Single());
        });
        Assert.Equal(HttpStatusCode.Created, finish.StatusCode);
        Assert.Equal(digest, finish.Headers.GetValues("Docker-Content-Digest").Single());
    }

    [Fact]
    public async Task The_api_route_refuses_an_oversized_body_at_the_edge()
    {
        using var http = stack.Gateway.CreateClient();
        using var response = await http.PostAsync("/api/v1/repositories", new ByteArrayContent(new byte[2 * 1024 * 1024]));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task Rest_api_answers_through_the_gateway()
    {
        using var http = stack.Gateway.CreateClient();
        using var response = await http.GetAsync("/api/v1/repositories");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("repositories", await response.Content.ReadAsStringAsync());
    }

    private async Task<(byte[] Blob, string Digest)> PushRandomBlobAsync(HttpClient http, string repository, int size)
    {
        var blob = RandomNumberGenerator.GetBytes(size);
        var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(blob));
        using var push = await http.PostAsync($"/v2/{repository}/blobs/uploads/?digest={digest}", new ByteArrayContent(blob));
        Assert.Equal(HttpStatusCode.Created, push.StatusCode);
        return (blob, digest);
    }

    [Fact]
    public async Task A_handed_off_download_has_the_servers_headers_and_the_exact_bytes()
    {
        using var http = stack.Gateway.CreateClient();
        var (blob, digest) = await PushRandomBlobAsync(http, "gw/handoff", 5 * 1024 * 1024 + 3);
        using var pull = await http.GetAsync($"/v2/gw/handoff/blobs/{digest}");
        Assert.Equal(HttpStatusCode.OK, pull.StatusCode);
        Assert.Equal(blob.Length, pull.Content.Headers.ContentLength);
        Assert.Equal(digest, pull.Headers.GetValues("Docker-Content-Digest").Single());
        Assert.False(pull.Headers.Contains("X-Berth-Blob-File"), "the file path must not reach the client");
        Assert.Equal(blob, await pull.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task A_range_request_through_the_gateway_is_answered_by_the_server()
    {
        using var http = stack.Gateway.CreateClient();
        var (blob, digest) = await PushRandomBlobAsync(http, "gw/range", 100_000);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/gw/range/blobs/{digest}");
        request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(1000, 1999);
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal(blob[1000..2000], await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Without_handoff_the_gateway_strips_the_header_a_client_sends_and_relays_the_bytes()
    {
        // A second gateway in front of the same (handoff-enabled) server, without shared storage.
        await using var plain = await BerthHosts.StartGatewayAsync(stack.Server.BaseAddress);
        using var http = plain.CreateClient();
        var (blob, digest) = await PushRandomBlobAsync(http, "gw/plain", 3 * 1024 * 1024);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/gw/plain/blobs/{digest}");
        request.Headers.Add("X-Berth-Blob-Handoff", "1");
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("X-Berth-Blob-File"));
        Assert.Equal(blob, await response.Content.ReadAsByteArrayAsync());
    }
}
