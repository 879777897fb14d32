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

    public static string Sha256(byte[] content) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));

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
