using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Berth.Registry.Tests;

/// <summary>Small helpers for driving /v2 directly in tests: push blobs and manifests, build manifests.</summary>
public sealed class OciClient(HttpClient http)
{
    public HttpClient Http { get; } = http;

    public const string OciManifestType = "application/vnd.oci.image.manifest.v1+json";
    public const string OciIndexType = "application/vnd.oci.image.index.v1+json";
    public const string DockerManifestType = "application/vnd.docker.distribution.manifest.v2+json";
    public const string DockerListType = "application/vnd.docker.distribution.manifest.list.v2+json";

    public static string Sha256(byte[] content) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));

    public static string Sha512(byte[] content) => "sha512:" + Convert.ToHexStringLower(SHA512.HashData(content));

    /// <summary>A repository name no other test uses, so tests sharing a server never collide.</summary>
    public static string NewRepository(string prefix = "t") => $"{prefix}/{Guid.NewGuid():N}";

    /// <summary>Where the filesystem store keeps a committed blob (mirrors FileSystemBlobStore's layout).</summary>
    public static string BlobFile(string dataDirectory, string digest)
    {
        var (algorithm, hex) = (digest[..digest.IndexOf(':')], digest[(digest.IndexOf(':') + 1)..]);
        return Path.Combine(dataDirectory, "storage", "blobs", algorithm, hex[..2], hex);
    }

    public static string UploadsDirectory(string dataDirectory) => Path.Combine(dataDirectory, "storage", "uploads");

    public static HashSet<string> StagedUploads(string dataDirectory) =>
        [.. Directory.EnumerateFiles(UploadsDirectory(dataDirectory)).Select(Path.GetFileName).OfType<string>()];

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string url, byte[]? body = null, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        }
        configure?.Invoke(request);
        return await Http.SendAsync(request);
    }

    /// <summary>POST /blobs/uploads/ with no body; asserts 202 and returns the session's Location.</summary>
    public async Task<string> StartUploadAsync(string repository)
    {
        using var response = await Http.PostAsync($"/v2/{repository}/blobs/uploads/", null);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return response.Headers.Location!.ToString();
    }

    public static string WithQuery(string location, string query) => location + (location.Contains('?') ? "&" : "?") + query;

    public static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values)
        : response.Content.Headers.TryGetValues(name, out var contentValues) ? string.Join(",", contentValues)
        : throw new Xunit.Sdk.XunitException($"response has no {name} header (status {(int)response.StatusCode})");

    public static string? OptionalHeader(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values)
        : response.Content.Headers.TryGetValues(name, out var contentValues) ? string.Join(",", contentValues) : null;

    /// <summary>Asserts the status and that the OCI error body carries exactly <paramref name="code"/>.</summary>
    public static async Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status} {code}, got {(int)response.StatusCode}: {body}");
        Assert.Equal([code], await ErrorCodesAsync(response));
    }

    /// <summary>A config blob and one layer pushed to the repository, for building manifests by hand.</summary>
    public async Task<(string ConfigDigest, long ConfigSize, string LayerDigest, long LayerSize)> PushConfigAndLayerAsync(string repository, int layerSize = 512)
    {
        var config = Encoding.UTF8.GetBytes($$"""{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"nonce":"{{Guid.NewGuid()}}"}""");
        var layer = RandomBytes(layerSize);
        return (await PushBlobAsync(repository, config), config.Length, await PushBlobAsync(repository, layer), layer.Length);
    }

    /// <summary>An image manifest of <paramref name="mediaType"/> whose blobs are in the repository (not yet pushed itself).</summary>
    public async Task<byte[]> NewImageManifestAsync(string repository, string mediaType = OciManifestType, string? subject = null, string? artifactType = null)
    {
        var (config, configSize, layer, layerSize) = await PushConfigAndLayerAsync(repository);
        var configType = mediaType == DockerManifestType ? "application/vnd.docker.container.image.v1+json" : "application/vnd.oci.image.config.v1+json";
        return ImageManifest(config, configSize, [(layer, layerSize)], subject, artifactType, mediaType, configType);
    }

    /// <summary>A valid OCI image manifest padded with an annotation to exactly <paramref name="size"/> bytes.</summary>
    public async Task<byte[]> PaddedManifestAsync(string repository, int size)
    {
        var (config, configSize, layer, layerSize) = await PushConfigAndLayerAsync(repository);
        byte[] Build(int padding) => JsonSerializer.SerializeToUtf8Bytes(new
        {
            schemaVersion = 2,
            mediaType = OciManifestType,
            config = new { mediaType = "application/vnd.oci.image.config.v1+json", digest = config, size = configSize },
            layers = new[] { new { mediaType = "application/vnd.oci.image.layer.v1.tar+gzip", digest = layer, size = layerSize } },
            annotations = new Dictionary<string, string> { ["padding"] = new('x', padding) },
        });
        var manifest = Build(size - Build(0).Length);
        Assert.Equal(size, manifest.Length);
        return manifest;
    }

    /// <summary>PUTs a manifest and asserts 201; returns its sha256 digest.</summary>
    public async Task<string> PutManifestCreatedAsync(string repository, string reference, byte[] manifest, string mediaType)
    {
        using var response = await PutManifestAsync(repository, reference, manifest, mediaType);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"PUT manifest {reference}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return Header(response, "Docker-Content-Digest");
    }

    public async Task<List<string>> ListTagsAsync(string repository)
    {
        using var response = await Http.GetAsync($"/v2/{repository}/tags/list");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return [.. document.RootElement.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!)];
    }

    public static byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        Random.Shared.NextBytes(bytes);
        return bytes;
    }

    /// <summary>Monolithic upload (POST ?digest=); returns the digest.</summary>
    public async Task<string> PushBlobAsync(string repository, byte[] content)
    {
        var digest = Sha256(content);
        using var response = await Http.PostAsync($"/v2/{repository}/blobs/uploads/?digest={digest}", new ByteArrayContent(content));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return digest;
    }

    public async Task<HttpResponseMessage> PutManifestAsync(string repository, string reference, byte[] manifest, string mediaType)
    {
        var content = new ByteArrayContent(manifest);
        content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        return await Http.PutAsync($"/v2/{repository}/manifests/{reference}", content);
    }

    /// <summary>Pushes a config and one layer, then an OCI image manifest under <paramref name="tag"/>; returns the manifest bytes and digest.</summary>
    public async Task<(byte[] Manifest, string Digest)> PushImageAsync(string repository, string tag, string? subject = null, string? artifactType = null, int layerSize = 1024)
    {
        var config = Encoding.UTF8.GetBytes($$"""{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"nonce":"{{Guid.NewGuid()}}"}""");
        var layer = RandomBytes(layerSize);
        var configDigest = await PushBlobAsync(repository, config);
        var layerDigest = await PushBlobAsync(repository, layer);
        var manifest = ImageManifest(configDigest, config.Length, [(layerDigest, layer.Length)], subject, artifactType);
        using var response = await PutManifestAsync(repository, tag, manifest, "application/vnd.oci.image.manifest.v1+json");
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (manifest, Sha256(manifest));
    }

    public static byte[] ImageManifest(string configDigest, long configSize, IEnumerable<(string Digest, long Size)> layers,
        string? subject = null, string? artifactType = null, string mediaType = "application/vnd.oci.image.manifest.v1+json",
        string configMediaType = "application/vnd.oci.image.config.v1+json")
    {
        var layerMediaType = mediaType.Contains("docker") ? "application/vnd.docker.image.rootfs.diff.tar.gzip" : "application/vnd.oci.image.layer.v1.tar+gzip";
        var document = new Dictionary<string, object?>
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = mediaType,
            ["config"] = new { mediaType = configMediaType, digest = configDigest, size = configSize },
            ["layers"] = layers.Select(l => new { mediaType = layerMediaType, digest = l.Digest, size = l.Size }).ToArray(),
        };
        if (artifactType is not null) document["artifactType"] = artifactType;
        if (subject is not null) document["subject"] = new { mediaType = "application/vnd.oci.image.manifest.v1+json", digest = subject, size = 100 };
        return JsonSerializer.SerializeToUtf8Bytes(document);
    }

    public static byte[] ImageIndex(IEnumerable<(string Digest, long Size, string Architecture)> children, string mediaType = "application/vnd.oci.image.index.v1+json")
    {
        var childType = mediaType.Contains("docker") ? "application/vnd.docker.distribution.manifest.v2+json" : "application/vnd.oci.image.manifest.v1+json";
        return JsonSerializer.SerializeToUtf8Bytes(new
        {
            schemaVersion = 2,
            mediaType,
            manifests = children.Select(c => new { mediaType = childType, digest = c.Digest, size = c.Size, platform = new { os = "linux", architecture = c.Architecture } }).ToArray(),
        });
    }

    /// <summary>The OCI error codes in an error response body.</summary>
    public static async Task<List<string>> ErrorCodesAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        using var document = JsonDocument.Parse(body);
        return [.. document.RootElement.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("code").GetString()!)];
    }
}
