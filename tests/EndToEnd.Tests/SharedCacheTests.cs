using System.Net;
using System.Security.Cryptography;
using Berth.TestSupport;

namespace Berth.EndToEnd.Tests;

/// <summary>
/// Two registry instances (their own processes) on one PostgreSQL database and
/// one blob store, keeping their caches coherent through Redis: a tag moved on
/// one is seen on the other, a blob link one shared is dropped when the other
/// removes it, and with Redis killed under load no pull fails and no stale
/// answer is served.
/// </summary>
public sealed class SharedCacheTests
{
    [SkippableFact]
    public async Task Two_instances_stay_coherent_and_keep_serving_through_a_redis_outage()
    {
        await using var instances = await TwoInstances.StartAsync();
        var redis = instances.Redis;
        using var writer = instances.First.CreateClient();
        using var reader = instances.Second.CreateClient();

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

    [SkippableFact]
    public async Task A_blob_pushed_on_one_instance_is_served_by_the_other_until_either_removes_its_link()
    {
        await using var instances = await TwoInstances.StartAsync();
        using var pusher = instances.First.CreateClient();
        using var puller = instances.Second.CreateClient();

        foreach (var (remover, name) in new[] { (pusher, "the pushing instance"), (puller, "the pulling instance") })
        {
            var blob = RandomNumberGenerator.GetBytes(4096);
            var digest = ImagePushes.Sha256(blob);
            using (var pushed = await pusher.PostAsync($"/v2/shared/layers/blobs/uploads/?digest={digest}", new ByteArrayContent(blob)))
                Assert.Equal(HttpStatusCode.Created, pushed.StatusCode);
            // The pushing instance shared the link; the other answers from it, then from its memory.
            for (var pull = 0; pull < 2; pull++)
            {
                using var pulled = await puller.GetAsync($"/v2/shared/layers/blobs/{digest}");
                Assert.Equal(HttpStatusCode.OK, pulled.StatusCode);
                Assert.Equal(blob, await pulled.Content.ReadAsByteArrayAsync());
            }
            using (var removed = await remover.DeleteAsync($"/v2/shared/layers/blobs/{digest}"))
                Assert.Equal(HttpStatusCode.Accepted, removed.StatusCode);
            foreach (var http in new[] { pusher, puller })
                await EventuallyAsync(async () =>
                {
                    using var head = new HttpRequestMessage(HttpMethod.Head, $"/v2/shared/layers/blobs/{digest}");
                    using var response = await http.SendAsync(head);
                    return response.StatusCode == HttpStatusCode.NotFound;
                }, $"a blob link removed through {name} was still served");
        }
    }

    /// <summary>Two registry processes on one fresh PostgreSQL database, one blob directory and one Redis; disposed in reverse.</summary>
    private sealed class TwoInstances : IAsyncDisposable
    {
        private readonly TemporaryPostgresDatabase _database;
        private readonly TempDirectory _data;

        private TwoInstances(TemporaryPostgresDatabase database, RedisServer redis, TempDirectory data, ServerProcess first, ServerProcess second)
        {
            _database = database;
            Redis = redis;
            _data = data;
            First = first;
            Second = second;
        }

        public RedisServer Redis { get; }
        public ServerProcess First { get; }
        public ServerProcess Second { get; }

        public static async Task<TwoInstances> StartAsync()
        {
            var database = await TemporaryPostgresDatabase.CreateAsync(RequiredServer.Postgres());
            RedisServer? redis = null;
            TempDirectory? data = null;
            ServerProcess? first = null;
            try
            {
                redis = await RedisServer.StartAsync();
                data = new TempDirectory("berth-two");
                string[] shared = ["--services", "registry", "--Registry:DatabaseProvider", "postgres", "--Registry:ConnectionString", database.ConnectionString,
                    "--Registry:StorageDirectory", Path.Combine(data.Path, "storage"), "--Registry:Redis", redis.Configuration];
                first = await ServerProcess.StartAsync(Path.Combine(data.Path, "a"), shared);
                var second = await ServerProcess.StartAsync(Path.Combine(data.Path, "b"), shared);
                return new TwoInstances(database, redis, data, first, second);
            }
            catch
            {
                first?.Dispose();
                data?.Dispose();
                if (redis is not null) await redis.DisposeAsync();
                await database.DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            Second.Dispose();
            First.Dispose();
            _data.Dispose();
            await Redis.DisposeAsync();
            await _database.DisposeAsync();
        }
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
