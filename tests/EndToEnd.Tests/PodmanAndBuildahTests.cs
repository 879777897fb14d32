using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;

namespace Berth.EndToEnd.Tests;

/// <summary>podman push/pull and a buildah build with a RUN step, all through the Gateway.</summary>
[Collection(ContainerClientsCollection.Name)]
public sealed class PodmanAndBuildahTests(TestImages images, BerthStack stack) : IClassFixture<BerthStack>
{
    [Fact]
    public async Task Podman_pushes_and_pulls_back_the_same_image()
    {
        var host = stack.Host(throughGateway: true);
        var tools = images.Tools;
        var local = $"localhost/e2e/podman-src:{Guid.NewGuid():N}";
        // Into podman's (private) storage under a local name; the layout path itself is no valid image name.
        await tools.SkopeoAsync("copy", images.Reference(TestImages.Single), $"containers-storage:{local}");
        var digestFile = tools.Combine($"digest-{Guid.NewGuid():N}");
        await tools.PodmanAsync("push", "--tls-verify=false", "--digestfile", digestFile, local, $"{host}/e2e/podman:1");
        var pushed = File.ReadAllText(digestFile).Trim();
        Assert.StartsWith("sha256:", pushed);

        await tools.PodmanAsync("rmi", "--force", "--all");
        await tools.PodmanAsync("pull", "--tls-verify=false", $"{host}/e2e/podman:1");
        var inspect = await tools.PodmanAsync("image", "inspect", $"{host}/e2e/podman:1");
        using var document = JsonDocument.Parse(inspect);
        Assert.Equal(pushed, document.RootElement[0].GetProperty("Digest").GetString());
    }

    [Fact]
    public async Task A_moved_tag_restored_through_the_time_machine_is_what_podman_pulls()
    {
        var host = stack.Host(throughGateway: true);
        var tools = images.Tools;
        var repository = $"e2e/restore{Guid.NewGuid():N}";
        await tools.SkopeoAsync("copy", "--dest-tls-verify=false", images.Reference(TestImages.Single), $"docker://{host}/{repository}:v1");
        var original = images.DigestOf(TestImages.Single);
        await tools.SkopeoAsync("copy", "--dest-tls-verify=false", "--all", images.Reference(TestImages.Multi), $"docker://{host}/{repository}:v1");

        using var http = new HttpClient { BaseAddress = new Uri($"http://{host}") };
        using var restored = await http.PostAsync($"/api/v1/tags/{repository}",
            new StringContent(JsonSerializer.Serialize(new { tag = "v1", manifestDigest = original }), System.Text.Encoding.UTF8, "application/json"));
        Assert.True(restored.IsSuccessStatusCode, await restored.Content.ReadAsStringAsync());

        await tools.PodmanAsync("rmi", "--force", "--all");
        await tools.PodmanAsync("pull", "--tls-verify=false", $"{host}/{repository}:v1");
        var inspect = await tools.PodmanAsync("image", "inspect", $"{host}/{repository}:v1");
        using var document = JsonDocument.Parse(inspect);
        Assert.Equal(original, document.RootElement[0].GetProperty("Digest").GetString());
    }

    [Fact]
    public async Task Buildah_builds_with_a_run_step_from_a_base_in_berth_and_pushes_back()
    {
        var host = stack.Host(throughGateway: true);
        var tools = images.Tools;
        await tools.SkopeoAsync("copy", "--dest-tls-verify=false", images.Reference(TestImages.Single), $"docker://{host}/e2e/base:1");

        var context = Directory.CreateDirectory(tools.Combine($"build-{Guid.NewGuid():N}")).FullName;
        var marker = Guid.NewGuid().ToString("N");
        File.WriteAllText(Path.Combine(context, "Dockerfile"), $"""
            FROM {host}/e2e/base:1
            RUN echo {marker} > /built.txt
            """);
        await tools.BuildahAsync(context, "bud", "--isolation", "chroot", "--tls-verify=false", "--layers=false", "-t", $"{host}/e2e/built:1", ".");
        await tools.BuildahAsync(context, "push", "--tls-verify=false", $"{host}/e2e/built:1");

        // Pull it back as an OCI layout and find the file the RUN step wrote in its top layer.
        var outLayout = tools.Combine($"built-{Guid.NewGuid():N}");
        await tools.SkopeoAsync("copy", "--src-tls-verify=false", $"docker://{host}/e2e/built:1", $"oci:{outLayout}:built");
        var manifestDigest = TestImages.DigestOf(outLayout, "built");
        using var manifest = JsonDocument.Parse(File.ReadAllBytes(BlobPath(outLayout, manifestDigest)));
        var layers = manifest.RootElement.GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal(2, layers.Count);
        var topLayer = BlobPath(outLayout, layers[^1].GetProperty("digest").GetString()!);
        Assert.Equal($"{marker}\n", ReadFileFromLayer(topLayer, "built.txt"));
    }

    private static string BlobPath(string layout, string digest) => Path.Combine(layout, "blobs", "sha256", digest["sha256:".Length..]);

    private static string? ReadFileFromLayer(string layerPath, string name)
    {
        using var file = File.OpenRead(layerPath);
        Stream stream = file;
        var magic = new byte[2];
        file.ReadExactly(magic);
        file.Position = 0;
        if (magic[0] == 0x1f && magic[1] == 0x8b) stream = new GZipStream(file, CompressionMode.Decompress);
        using var reader = new TarReader(stream);
        while (reader.GetNextEntry() is { } entry)
        {
            if (entry.Name.TrimStart('.', '/') != name || entry.DataStream is null) continue;
            using var text = new StreamReader(entry.DataStream);
            return text.ReadToEnd();
        }
        return null;
    }
}
