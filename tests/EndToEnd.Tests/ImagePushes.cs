using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;

namespace Berth.EndToEnd.Tests;

/// <summary>Pushes small OCI images over plain HTTP, for tests that need many distinct ones quickly.</summary>
public static class ImagePushes
{
    /// <summary>
    /// Pushes an image with a config made from <paramref name="seed"/> and the given
    /// layers (none for a config-only image) as <paramref name="repository"/>:<paramref name="tag"/>;
    /// every step must succeed. Returns the manifest's digest.
    /// </summary>
    public static async Task<string> PushAsync(HttpClient http, string repository, string tag, string seed, params byte[][] layers)
    {
        var config = Encoding.UTF8.GetBytes($"{{\"architecture\":\"amd64\",\"os\":\"linux\",\"seed\":\"{seed}\"}}");
        foreach (var blob in layers.Prepend(config))
        {
            using var response = await http.PostAsync($"/v2/{repository}/blobs/uploads/?digest={Sha256(blob)}", new ByteArrayContent(blob));
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }
        var layerJson = string.Join(",", layers.Select(l => $$"""{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{{Sha256(l)}}","size":{{l.Length}}}"""));
        var manifest = Encoding.UTF8.GetBytes($$"""
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
             "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{Sha256(config)}}","size":{{config.Length}}},
             "layers":[{{layerJson}}]}
            """);
        using var content = new ByteArrayContent(manifest);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/vnd.oci.image.manifest.v1+json");
        using var put = await http.PutAsync($"/v2/{repository}/manifests/{tag}", content);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        return Sha256(manifest);
    }

    public static string Sha256(byte[] content) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));
}
