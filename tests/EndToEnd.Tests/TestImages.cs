using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Berth.EndToEnd.Tests;

/// <summary>
/// Real images made offline: a busybox-static root filesystem packed by umoci
/// into an OCI layout, tagged once per architecture, plus an OCI index over
/// both for multi-arch copies. Built once per test run.
/// </summary>
public sealed class TestImages : IAsyncLifetime
{
    public const string Single = "amd64";
    public const string Multi = "multi";

    public ToolRunner Tools { get; } = new();

    public string Layout => Tools.Combine("layout");

    /// <summary>skopeo/podman transport reference for a tag in the layout.</summary>
    public string Reference(string tag) => $"oci:{Layout}:{tag}";

    public async Task InitializeAsync()
    {
        var busybox = new[] { "/bin/busybox", "/usr/bin/busybox" }.FirstOrDefault(File.Exists);
        Berth.TestSupport.RequiredServer.Require(busybox is not null, "busybox-static is not installed (apt-get install busybox-static)");
        await Tools.RunAsync("umoci", ["init", "--layout", Layout]);
        await Tools.RunAsync("umoci", ["new", "--image", $"{Layout}:base"]);
        var bundle = Tools.Combine("bundle");
        await Tools.RunAsync("umoci", ["unpack", "--rootless", "--image", $"{Layout}:base", bundle]);
        var bin = Directory.CreateDirectory(Path.Combine(bundle, "rootfs", "bin")).FullName;
        File.Copy(busybox!, Path.Combine(bin, "busybox"));
        foreach (var applet in new[] { "sh", "ls", "cat", "echo", "test" })
            File.CreateSymbolicLink(Path.Combine(bin, applet), "busybox");
        await Tools.RunAsync("umoci", ["repack", "--image", $"{Layout}:base", bundle]);
        await Tools.RunAsync("umoci", ["config", "--image", $"{Layout}:base", "--config.cmd", "/bin/sh", "--os", "linux", "--architecture", "amd64", "--tag", Single]);
        await Tools.RunAsync("umoci", ["config", "--image", $"{Layout}:base", "--config.cmd", "/bin/sh", "--os", "linux", "--architecture", "arm64", "--tag", "arm64"]);
        AddIndex(Multi, [(Single, "amd64"), ("arm64", "arm64")]);
    }

    /// <summary>Writes an OCI image index over the named tags into the layout, under its own tag.</summary>
    private void AddIndex(string tag, IReadOnlyList<(string Tag, string Architecture)> children)
    {
        var indexPath = Path.Combine(Layout, "index.json");
        var layoutIndex = JsonNode.Parse(File.ReadAllText(indexPath))!.AsObject();
        var manifests = layoutIndex["manifests"]!.AsArray();
        var entries = new JsonArray();
        foreach (var (childTag, architecture) in children)
        {
            var descriptor = manifests.First(m => m!["annotations"]?["org.opencontainers.image.ref.name"]?.GetValue<string>() == childTag)!;
            entries.Add(new JsonObject
            {
                ["mediaType"] = descriptor["mediaType"]!.GetValue<string>(),
                ["digest"] = descriptor["digest"]!.GetValue<string>(),
                ["size"] = descriptor["size"]!.GetValue<long>(),
                ["platform"] = new JsonObject { ["os"] = "linux", ["architecture"] = architecture },
            });
        }
        var index = JsonSerializer.SerializeToUtf8Bytes(new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = "application/vnd.oci.image.index.v1+json",
            ["manifests"] = entries,
        });
        var hex = Convert.ToHexStringLower(SHA256.HashData(index));
        File.WriteAllBytes(Path.Combine(Layout, "blobs", "sha256", hex), index);
        manifests.Add(new JsonObject
        {
            ["mediaType"] = "application/vnd.oci.image.index.v1+json",
            ["digest"] = $"sha256:{hex}",
            ["size"] = index.Length,
            ["annotations"] = new JsonObject { ["org.opencontainers.image.ref.name"] = tag },
        });
        File.WriteAllText(indexPath, layoutIndex.ToJsonString());
    }

    /// <summary>The digest of the manifest (or index) a layout tag names.</summary>
    public string DigestOf(string tag) => DigestOf(Layout, tag);

    public static string DigestOf(string layout, string tag)
    {
        var layoutIndex = JsonNode.Parse(File.ReadAllText(Path.Combine(layout, "index.json")))!;
        return layoutIndex["manifests"]!.AsArray()
            .First(m => m!["annotations"]?["org.opencontainers.image.ref.name"]?.GetValue<string>() == tag)!["digest"]!.GetValue<string>();
    }

    public Task DisposeAsync()
    {
        Tools.Dispose();
        return Task.CompletedTask;
    }
}

[CollectionDefinition(Name)]
public sealed class ContainerClientsCollection : ICollectionFixture<TestImages>
{
    public const string Name = "container clients";
}
