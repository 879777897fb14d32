using System.Net.Http.Json;
using System.Text.Json;
using Berth.TestSupport;

namespace Berth.EndToEnd.Tests;

/// <summary>Everything pushed before a restart is there after it: tags, manifests, blobs, indexes.</summary>
[Collection(ContainerClientsCollection.Name)]
public sealed class RestartTests(TestImages images)
{
    [Fact]
    public async Task Data_pushed_before_a_restart_is_all_there_after_it()
    {
        using var data = new TempDirectory("berth-restart");
        var tools = images.Tools;
        string before;
        await using (var first = await BerthHosts.StartServerAsync(data.Path))
        {
            await tools.SkopeoAsync("copy", "--dest-tls-verify=false", images.Reference(TestImages.Single), $"docker://{first.HostAndPort}/restart/single:1");
            await tools.SkopeoAsync("copy", "--all", "--dest-tls-verify=false", images.Reference(TestImages.Multi), $"docker://{first.HostAndPort}/restart/multi:1");
            await tools.SkopeoAsync("copy", "--dest-tls-verify=false", images.Reference(TestImages.Single), $"docker://{first.HostAndPort}/restart/single:2");
            using var http = first.CreateClient();
            before = await http.GetStringAsync("/v2/_catalog");
        }

        await using var second = await BerthHosts.StartServerAsync(data.Path);
        using var client = second.CreateClient();
        Assert.Equal(before, await client.GetStringAsync("/v2/_catalog"));
        var tags = await client.GetFromJsonAsync<JsonElement>("/v2/restart/single/tags/list");
        Assert.Equal(["1", "2"], tags.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));

        foreach (var (repository, tag, layoutTag, all) in new[] { ("restart/single", "2", TestImages.Single, false), ("restart/multi", "1", TestImages.Multi, true) })
        {
            var outLayout = tools.Combine($"restart-{Guid.NewGuid():N}");
            string[] copy = all
                ? ["copy", "--all", "--src-tls-verify=false", $"docker://{second.HostAndPort}/{repository}:{tag}", $"oci:{outLayout}:x"]
                : ["copy", "--src-tls-verify=false", $"docker://{second.HostAndPort}/{repository}:{tag}", $"oci:{outLayout}:x"];
            await tools.SkopeoAsync(copy);
            Assert.Equal(images.DigestOf(layoutTag), TestImages.DigestOf(outLayout, "x"));
        }
    }
}
