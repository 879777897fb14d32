using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using Berth.TestSupport;

namespace Berth.EndToEnd.Tests;

/// <summary>
/// Two registry instances (their own processes) on one PostgreSQL database and
/// blob store behind one Gateway route. kill -9 of one under load: the other
/// keeps serving, the Gateway stops sending to the dead one within seconds, and
/// every image pushed before is intact.
/// </summary>
public sealed class InstanceFailureTests
{
    [SkippableFact]
    public async Task Killing_one_instance_under_load_leaves_the_other_serving_everything()
    {
        await using var instances = await TwoRegistryInstances.StartAsync("berth-failover");
        var (doomed, survivor) = (instances.First, instances.Second);
        using var viaGateway = instances.Gateway.CreateClient();
        using var direct = survivor.CreateClient();

        var images = new List<(string Tag, string Digest, string Layer, byte[] LayerBytes)>();
        for (var i = 0; i < 20; i++) images.Add(await PushAsync(viaGateway, i));

        var killedAt = Stopwatch.StartNew();
        var killed = false;
        var gatewayFailures = new ConcurrentBag<(TimeSpan At, string What)>();
        var directFailures = new ConcurrentBag<string>();
        var requests = 0;
        using var stop = new CancellationTokenSource();
        var load = Enumerable.Range(0, 6).Select(w => Task.Run(async () =>
        {
            var http = w < 4 ? viaGateway : direct;
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var image = images[(w * 7 + n) % images.Count];
                var path = n % 2 == 0 ? $"/v2/failover/app/manifests/{image.Tag}" : $"/v2/failover/app/blobs/{image.Layer}";
                string? failure = null;
                try
                {
                    using var response = await http.GetAsync(path);
                    if (response.StatusCode != HttpStatusCode.OK) failure = $"{path}: {(int)response.StatusCode}";
                }
                catch (HttpRequestException e)
                {
                    failure = $"{path}: {e.Message}";
                }
                Interlocked.Increment(ref requests);
                if (failure is null) continue;
                if (w < 4) gatewayFailures.Add((killed ? killedAt.Elapsed : TimeSpan.Zero, failure));
                else directFailures.Add(failure);
            }
        })).ToArray();

        await Task.Delay(1000);
        doomed.Process.Kill();
        killedAt.Restart();
        killed = true;
        await Task.Delay(6000);
        await stop.CancelAsync();
        await Task.WhenAll(load);

        Assert.True(requests > 500, $"only {requests} requests under load");
        Assert.Empty(directFailures);
        // Requests in flight to the killed instance may fail; once the Gateway has noticed (a few seconds at most), none does.
        var late = gatewayFailures.Where(f => f.At > TimeSpan.FromSeconds(3)).ToList();
        Assert.True(late.Count == 0, $"{late.Count} failures through the Gateway more than 3 s after the kill, e.g. {late.FirstOrDefault().What}");
        Assert.DoesNotContain(gatewayFailures, f => f.At == TimeSpan.Zero);

        // Everything pushed before the kill is whole on the survivor.
        foreach (var (tag, digest, layer, bytes) in images)
        {
            using var manifest = await viaGateway.GetAsync($"/v2/failover/app/manifests/{tag}");
            Assert.Equal(HttpStatusCode.OK, manifest.StatusCode);
            Assert.Equal(digest, Sha256(await manifest.Content.ReadAsByteArrayAsync()));
            Assert.Equal(bytes, await direct.GetByteArrayAsync($"/v2/failover/app/blobs/{layer}"));
        }
    }

    private static async Task<(string Tag, string Digest, string Layer, byte[] LayerBytes)> PushAsync(HttpClient http, int i)
    {
        var layer = RandomNumberGenerator.GetBytes(64 * 1024 + i);
        var digest = await ImagePushes.PushAsync(http, "failover/app", $"v{i}", $"n{i}", layer);
        return ($"v{i}", digest, Sha256(layer), layer);
    }

    private static string Sha256(byte[] content) => ImagePushes.Sha256(content);
}
