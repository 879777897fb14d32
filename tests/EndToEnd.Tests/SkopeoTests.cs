using System.Text.Json;

namespace Berth.EndToEnd.Tests;

/// <summary>skopeo copies real images in and out, directly and through the Gateway, and every digest survives the round trip.</summary>
[Collection(ContainerClientsCollection.Name)]
public sealed class SkopeoTests(TestImages images, BerthStack stack) : IClassFixture<BerthStack>
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Image_copies_in_and_out_with_identical_digests(bool throughGateway)
    {
        var host = stack.Host(throughGateway);
        var repository = $"e2e/skopeo-{(throughGateway ? "gw" : "direct")}";
        await images.Tools.SkopeoAsync("copy", "--dest-tls-verify=false", images.Reference(TestImages.Single), $"docker://{host}/{repository}:1");

        var raw = await images.Tools.SkopeoAsync("inspect", "--raw", "--tls-verify=false", $"docker://{host}/{repository}:1");
        Assert.Equal(images.DigestOf(TestImages.Single), Sha256(raw));

        var outLayout = images.Tools.Combine($"out-{Guid.NewGuid():N}");
        await images.Tools.SkopeoAsync("copy", "--src-tls-verify=false", $"docker://{host}/{repository}:1", $"oci:{outLayout}:copy");
        Assert.Equal(images.DigestOf(TestImages.Single), TestImages.DigestOf(outLayout, "copy"));
        foreach (var blob in Directory.EnumerateFiles(Path.Combine(outLayout, "blobs", "sha256")))
            Assert.Equal(Path.GetFileName(blob), Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(blob))));
    }

    [Fact]
    public async Task Multi_arch_index_copies_with_all_its_images()
    {
        var host = stack.Host(throughGateway: true);
        await images.Tools.SkopeoAsync("copy", "--all", "--dest-tls-verify=false", images.Reference(TestImages.Multi), $"docker://{host}/e2e/multi:1");

        var raw = await images.Tools.SkopeoAsync("inspect", "--raw", "--tls-verify=false", $"docker://{host}/e2e/multi:1");
        Assert.Equal(images.DigestOf(TestImages.Multi), Sha256(raw));
        using var index = JsonDocument.Parse(raw);
        var children = index.RootElement.GetProperty("manifests").EnumerateArray().Select(m => m.GetProperty("digest").GetString()!).ToList();
        Assert.Equal(2, children.Count);
        foreach (var child in children)
        {
            var childRaw = await images.Tools.SkopeoAsync("inspect", "--raw", "--tls-verify=false", $"docker://{host}/e2e/multi@{child}");
            Assert.Equal(child, Sha256(childRaw));
        }

        var outLayout = images.Tools.Combine($"out-{Guid.NewGuid():N}");
        await images.Tools.SkopeoAsync("copy", "--all", "--src-tls-verify=false", $"docker://{host}/e2e/multi:1", $"oci:{outLayout}:copy");
        Assert.Equal(images.DigestOf(TestImages.Multi), TestImages.DigestOf(outLayout, "copy"));
    }

    private static string Sha256(string raw) =>
        "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(raw)));
}
