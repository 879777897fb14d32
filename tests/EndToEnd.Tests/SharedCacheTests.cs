using System.Net;
using Berth.TestSupport;

namespace Berth.EndToEnd.Tests;

/// <summary>
/// Two registry instances (their own processes) on one PostgreSQL database and
/// one blob store, keeping their caches coherent through Redis: a tag moved on
/// one is seen on the other, and with Redis killed under load no pull fails and
/// no stale answer is served.
/// </summary>
public sealed class SharedCacheTests
{
    [SkippableFact]
    public async Task Two_instances_stay_coherent_and_keep_serving_through_a_redis_outage()
    {
        var postgres = RequiredServer.Postgres();
        await using var database = await TemporaryPostgresDatabase.CreateAsync(postgres);
        await using var redis = await RedisServer.StartAsync();
        using var data = new TempDirectory("berth-two");
        string[] shared = ["--services", "registry", "--Registry:DatabaseProvider", "postgres", "--Registry:ConnectionString", database.ConnectionString,
            "--Registry:StorageDirectory", Path.Combine(data.Path, "storage"), "--Registry:Redis", redis.Configuration];
        using var first = await ServerProcess.StartAsync(Path.Combine(data.Path, "a"), shared);
        using var second = await ServerProcess.StartAsync(Path.Combine(data.Path, "b"), shared);
        using var writer = first.CreateClient();
        using var reader = second.CreateClient();

        var one = await PushAsync(writer, "one");
        Assert.Equal(one, await DigestAsync(reader));
        Assert.Equal(one, await DigestAsync(reader));  // now cached on the second instance
        var two = await PushAsync(writer, "two");
        await EventuallyAsync(async () => await DigestAsync(reader) == two, "the second instance kept serving the moved tag's old manifest");

        // Pulls on both instances go on while Redis is killed, the tag moves, and Redis comes back.
        var failures = 0;
        var pulls = 0;
        using var stop = new CancellationTokenSource();
        var load = Enumerable.Range(0, 4).Select(i => Task.Run(async () =>
        {
            var http = i % 2 == 0 ? reader : writer;
            while (!stop.IsCancellationRequested)
            {
                using var response = await http.GetAsync("/v2/shared/app/manifests/latest");
                Interlocked.Increment(ref pulls);
                if (response.StatusCode != HttpStatusCode.OK) Interlocked.Increment(ref failures);
            }
        })).ToArray();
        await Task.Delay(500);
        await redis.KillAsync();
        await Task.Delay(1000);
        var three = await PushAsync(writer, "three");
        // Without Redis the second instance cannot hear of the move, so it must not answer from its cache.
        Assert.Equal(three, await DigestAsync(reader));
        await redis.StartProcessAsync();
        await Task.Delay(2000);
        var four = await PushAsync(writer, "four");
        await EventuallyAsync(async () => await DigestAsync(reader) == four, "after Redis came back the second instance missed a move");
        await stop.CancelAsync();
        await Task.WhenAll(load);

        Assert.True(pulls > 100, $"only {pulls} pulls under load");
        Assert.Equal(0, failures);
    }

    private static Task<string> PushAsync(HttpClient http, string seed) => ImagePushes.PushAsync(http, "shared/app", "latest", seed);

    private static async Task<string> DigestAsync(HttpClient http)
    {
        using var response = await http.GetAsync("/v2/shared/app/manifests/latest");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response.Headers.GetValues("Docker-Content-Digest").Single();
    }

    /// <summary>Invalidations travel over pub/sub, so the other instance learns of a write a moment after it returns.</summary>
    private static async Task EventuallyAsync(Func<Task<bool>> condition, string failure)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail(failure);
            await Task.Delay(50);
        }
    }

}
