using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Berth.Registry.Tests;

/// <summary>Repository name grammar on every route, and garbage input that must never become a 500.</summary>
public sealed class NameValidationTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private static readonly string Digest = OciClient.Sha256([1, 2, 3]);

    private readonly OciClient _oci = new(fixture.CreateClient());

    public static TheoryData<string> InvalidNames =>
    [
        "Upper/case",
        "UPPER",
        "lower/Upper",
        "a//b",
        "a/b/",
        "a..b",
        "a/..b",
        "a/b..",
        "-leading-dash",
        "trailing-dash-",
        "a___b",
        "a.-b",
        "a b",
        "ü",
        new string('a', 256),
        string.Join('/', Enumerable.Repeat("abcdefghijklmno", 17)),
    ];

    /// <summary>Every /v2 route that takes a repository name.</summary>
    private static IEnumerable<(HttpMethod Method, string Path)> RoutesFor(string name) =>
    [
        (HttpMethod.Get, $"/v2/{name}/tags/list"),
        (HttpMethod.Get, $"/v2/{name}/manifests/latest"),
        (HttpMethod.Head, $"/v2/{name}/manifests/latest"),
        (HttpMethod.Put, $"/v2/{name}/manifests/latest"),
        (HttpMethod.Delete, $"/v2/{name}/manifests/latest"),
        (HttpMethod.Get, $"/v2/{name}/blobs/{Digest}"),
        (HttpMethod.Delete, $"/v2/{name}/blobs/{Digest}"),
        (HttpMethod.Post, $"/v2/{name}/blobs/uploads/"),
        (HttpMethod.Post, $"/v2/{name}/blobs/uploads/?digest={Digest}"),
        (HttpMethod.Patch, $"/v2/{name}/blobs/uploads/{Guid.NewGuid():N}"),
        (HttpMethod.Put, $"/v2/{name}/blobs/uploads/{Guid.NewGuid():N}?digest={Digest}"),
        (HttpMethod.Get, $"/v2/{name}/blobs/uploads/{Guid.NewGuid():N}"),
        (HttpMethod.Delete, $"/v2/{name}/blobs/uploads/{Guid.NewGuid():N}"),
        (HttpMethod.Get, $"/v2/{name}/referrers/{Digest}"),
    ];

    [Theory]
    [MemberData(nameof(InvalidNames))]
    public async Task Invalid_repository_name_is_name_invalid_on_every_route(string name)
    {
        var path = string.Join('/', name.Split('/').Select(Uri.EscapeDataString));
        foreach (var (method, url) in RoutesFor(path))
        {
            using var response = await _oci.SendAsync(method, url, method == HttpMethod.Get || method == HttpMethod.Head || method == HttpMethod.Delete ? null : [1, 2, 3]);
            if (method == HttpMethod.Head)
            {
                Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
                continue;
            }
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{method} {url}: {(int)response.StatusCode} {body}");
            Assert.Equal(["NAME_INVALID"], await OciClient.ErrorCodesAsync(response));
        }
    }

    [Fact]
    public async Task Leading_separator_is_name_invalid()
    {
        // HttpClient keeps the empty segment: the name seen by the server is "/a".
        using var response = await _oci.Http.GetAsync("/v2//a/tags/list");
        await OciClient.AssertErrorAsync(response, HttpStatusCode.BadRequest, "NAME_INVALID");
    }

    [Fact]
    public async Task Dot_segments_never_become_part_of_a_repository_name()
    {
        // HttpClient removes ".." before sending, so these go out raw; the server must not
        // treat "a/.." as a name (or step outside /v2), and must not fail.
        foreach (var path in new[] { "/v2/a/%2E%2E/tags/list", "/v2/a/%2e%2e/b/tags/list", "/v2/a/../b/tags/list", "/v2/../tags/list", "/v2/a/./b/tags/list" })
        {
            var (status, body) = await RawAsync($"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            Assert.True(status is >= 400 and < 500, $"{path}: {status} {body}");
            Assert.DoesNotContain("..", body);
        }
    }

    [Fact]
    public async Task Name_of_255_characters_is_valid()
    {
        var name = string.Join('/', Enumerable.Repeat("abcdefghijklmno", 16))[..255].TrimEnd('/');
        Assert.Equal(255, name.Length);
        using (var unknown = await _oci.Http.GetAsync($"/v2/{name}/tags/list"))
            await OciClient.AssertErrorAsync(unknown, HttpStatusCode.NotFound, "NAME_UNKNOWN");
        var digest = await _oci.PushBlobAsync(name, [4, 5, 6]);
        using var get = await _oci.Http.GetAsync($"/v2/{name}/blobs/{digest}");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
    }

    [Theory]
    [InlineData("a")]
    [InlineData("a/b/c/d/e")]
    [InlineData("a-b--c")]
    [InlineData("a__b")]
    [InlineData("a.b_c-d/e0")]
    [InlineData("0/9")]
    [InlineData("manifests/blobs")]
    public async Task Valid_names_work(string name)
    {
        var repository = $"{name}/{Guid.NewGuid():N}";
        await _oci.PushImageAsync(repository, "latest");
        Assert.Equal(["latest"], await _oci.ListTagsAsync(repository));
    }

    [Fact]
    public async Task Repository_named_like_route_keywords_round_trips()
    {
        // The route is read from the end, so names may contain the keywords themselves.
        var repository = $"blobs/uploads/manifests/tags/list/referrers/{Guid.NewGuid():N}";
        var (manifest, digest) = await _oci.PushImageAsync(repository, "list");
        using var get = await _oci.Http.GetAsync($"/v2/{repository}/manifests/list");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(manifest, await get.Content.ReadAsByteArrayAsync());
        Assert.Equal(["list"], await _oci.ListTagsAsync(repository));
        using var referrers = await _oci.Http.GetAsync($"/v2/{repository}/referrers/{digest}");
        Assert.Equal(HttpStatusCode.OK, referrers.StatusCode);
    }

    public static TheoryData<string, string, string?, string?> GarbageRequests()
    {
        var hex = new string('a', 64);
        var data = new TheoryData<string, string, string?, string?>
        {
            // method, path, extra header ("Name: value"), body
            { "GET", "/v2/a/tags/list?n=99999999999999999999", null, null },
            { "GET", "/v2/a/tags/list?last=%FF%FE%00", null, null },
            { "GET", "/v2/_catalog?n=-5&last=%00", null, null },
            { "GET", "/v2/_catalog?n=1&n=2", null, null },
            { "GET", "/v2/_catalog/extra", null, null },
            { "POST", "/v2/_catalog", null, "x" },
            { "GET", "/v2/%00/tags/list", null, null },
            { "GET", "/v2/a%2Fb/tags/list", null, null },
            { "GET", "/v2/a/blobs/sha256:zzzz", null, null },
            { "GET", $"/v2/a/blobs/sha256:{hex}", "Range: bytes=abc", null },
            { "GET", $"/v2/a/blobs/sha256:{hex}", "Range: bytes=10-5", null },
            { "GET", "/v2/a/blobs/", null, null },
            { "GET", "/v2/a/blobs", null, null },
            { "GET", "/v2/a/manifests/", null, null },
            { "GET", "/v2/a/manifests/latest", "Accept: ;;;,,,;q=abc", null },
            { "GET", "/v2/a/manifests/sha256:", null, null },
            { "GET", $"/v2/a/manifests/sha256:{hex}:{hex}", null, null },
            { "PUT", "/v2/a/manifests/latest", "Content-Type: ;;;", "{\"schemaVersion\":2}" },
            { "PUT", "/v2/a/manifests/latest", "Content-Type: application/vnd.oci.image.manifest.v1+json", "\u0000\u0001\u0002" },
            { "PUT", "/v2/a/manifests/latest", "Content-Type: application/vnd.oci.image.manifest.v1+json", "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"a\",\"digest\":\"sha256:" + hex + "\",\"size\":1,\"platform\":{\"os\":5}},\"layers\":[]}" },
            { "PUT", "/v2/a/manifests/latest", "Content-Type: application/vnd.oci.image.index.v1+json", "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:" + hex + "\",\"size\":1,\"platform\":[]}]}" },
            { "PUT", "/v2/a/manifests/latest", "Content-Type: application/vnd.oci.image.manifest.v1+json", "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"a\",\"digest\":\"sha256:" + hex + "\",\"size\":1},\"layers\":[],\"subject\":\"x\",\"annotations\":[1]}" },
            { "PATCH", "/v2/a/blobs/uploads/{session}", "Content-Range: garbage", "abc" },
            { "PATCH", "/v2/a/blobs/uploads/{session}", "Content-Range: 5-2", "abc" },
            { "PATCH", "/v2/a/blobs/uploads/{session}", "Content-Range: 0-99999999999999999999", "abc" },
            { "PATCH", "/v2/a/blobs/uploads/{session}", "Content-Range: 0-9223372036854775806", "abc" },
            { "PATCH", "/v2/a/blobs/uploads/{session}", "Content-Range: -5", "abc" },
            { "PATCH", "/v2/a/blobs/uploads/{session}", "Content-Range: bytes */3", "abc" },
            { "PUT", "/v2/a/blobs/uploads/{session}?digest=sha256:" + hex + "&digest=sha512:x", null, "abc" },
            { "PUT", "/v2/a/blobs/uploads/{session}?digest=", null, "abc" },
            { "POST", "/v2/a/blobs/uploads/?digest=garbage", null, "abc" },
            { "POST", "/v2/a/blobs/uploads/?mount=garbage", null, null },
            { "POST", "/v2/a/blobs/uploads/?mount=&from=", null, null },
            { "POST", $"/v2/a/blobs/uploads/?mount=sha256:{hex}&from=", null, null },
            { "POST", $"/v2/a/blobs/uploads/?mount=sha256:{hex}&from=%00", null, null },
            { "POST", "/v2/a/blobs/uploads/abc/def", null, null },
            { "GET", "/v2/a/blobs/uploads/%7Bnot-a-guid%7D", null, null },
            { "HEAD", $"/v2/a/referrers/sha256:{hex}", null, null },
            { "GET", "/v2/a/referrers/", null, null },
            { "GET", "/v2/a/referrers/sha256:x?artifactType=%00", null, null },
            { "OPTIONS", "/v2/", null, null },
            { "TRACE", "/v2/a/tags/list", null, null },
            { "PROPFIND", "/v2/a/manifests/latest", null, null },
            { "DELETE", "/v2/", null, null },
            { "GET", "/v2/" + new string('a', 6000) + "/tags/list", null, null },
            { "GET", "/v2/a/" + string.Concat(Enumerable.Repeat("x/", 2000)) + "tags/list", null, null },
            { "GET", "/v2/a/nonsense/deeper/still", null, null },
            { "GET", "/v2/tags/list", null, null },
            { "GET", "/v2/manifests/latest", null, null },
            { "GET", "/v2//", null, null },
        };
        return data;
    }

    [Theory]
    [MemberData(nameof(GarbageRequests))]
    public async Task Garbage_is_never_a_server_error(string method, string path, string? header, string? body)
    {
        // A real repository "a" with a live upload session, so the garbage reaches deep code paths.
        await _oci.PushImageAsync("a", $"t{Guid.NewGuid():N}");
        if (path.Contains("{session}"))
        {
            var location = await _oci.StartUploadAsync("a");
            path = path.Replace("{session}", location.TrimEnd('/').Split('/')[^1]);
        }
        var request = new StringBuilder($"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
        if (header is not null) request.Append(header).Append("\r\n");
        var bytes = body is null ? [] : Encoding.UTF8.GetBytes(body);
        if (body is not null) request.Append($"Content-Length: {bytes.Length}\r\n");
        request.Append("\r\n");
        var (status, responseBody) = await RawAsync(request.ToString(), bytes);
        Assert.True(status is >= 200 and < 500, $"{method} {path} -> {status} {responseBody}");
    }

    [Theory]
    [InlineData("GET /v2/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAccept: \u0001\u0002\r\n\r\n")]
    [InlineData("GET /v2/a/tags/list HTTP/1.1\r\nConnection: close\r\n\r\n")]
    [InlineData("PUT /v2/a/manifests/latest HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")]
    [InlineData("PUT /v2/a/manifests/latest HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n")]
    [InlineData("PUT /v2/a/manifests/latest HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: -1\r\n\r\n")]
    [InlineData("GET /v2/a/tags/list?n=%ZZ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")]
    [InlineData("GET /v2/a/%ZZ/tags/list HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")]
    [InlineData("GET v2/a/tags/list HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")]
    public async Task Malformed_http_is_never_a_server_error(string request)
    {
        var (status, body) = await RawAsync(request);
        Assert.True(status is >= 200 and < 500, $"{status} {body}");
    }

    [Fact]
    public async Task Body_shorter_than_its_content_length_is_not_a_server_error()
    {
        // The client declares 100 bytes, sends 3, and closes its side: the handler sees a truncated body.
        var location = await _oci.StartUploadAsync("a");
        var path = new Uri(location).PathAndQuery;
        using var client = new TcpClient();
        await client.ConnectAsync(fixture.Server.BaseAddress.Host, fixture.Server.BaseAddress.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"PATCH {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc"));
        client.Client.Shutdown(SocketShutdown.Send);
        var response = await ReadAllAsync(stream);
        if (response.Length > 0) Assert.True(StatusOf(response) < 500, response);
        // The session still works afterwards.
        using var status = await _oci.Http.GetAsync(location);
        Assert.Equal(HttpStatusCode.NoContent, status.StatusCode);
    }

    private async Task<(int Status, string Body)> RawAsync(string head, byte[]? body = null)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(fixture.Server.BaseAddress.Host, fixture.Server.BaseAddress.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.UTF8.GetBytes(head));
        if (body is { Length: > 0 }) await stream.WriteAsync(body);
        var response = await ReadAllAsync(stream);
        return (StatusOf(response), response);
    }

    private static async Task<string> ReadAllAsync(NetworkStream stream)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var buffer = new MemoryStream();
        try
        {
            await stream.CopyToAsync(buffer, timeout.Token);
        }
        catch (IOException)
        {
            // The server may reset the connection after answering a malformed request.
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static int StatusOf(string response)
    {
        Assert.True(response.StartsWith("HTTP/1.1 ", StringComparison.Ordinal), $"no status line: '{response}'");
        return int.Parse(response.AsSpan(9, 3));
    }
}
