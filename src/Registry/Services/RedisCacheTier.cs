using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Berth.Registry.Services;

/// <summary>
/// The shared cache tier on Redis. Invalidations are published on one channel
/// every registry instance subscribes to; copies live under
/// <c>berth:registry:cache:{epoch}:c:{key}</c> with a version counter
/// <c>…:v:{key}</c> that every invalidation bumps, so a fill prepared from a
/// database read that an invalidation overtook is refused inside Redis.
/// When the connection drops this instance stops trusting its cache (and clears
/// it); once reconnected it starts a new epoch, which orphans every shared copy
/// an invalidation may have failed to reach during the outage, and tells the
/// others to clear theirs. So a Redis outage makes the registry slower, never wrong.
/// Each script reads the epoch itself, so a script is one atomic round trip
/// (a single Redis server, not Redis Cluster: the copy keys are derived inside the script).
/// </summary>
public sealed class RedisCacheTier : ISharedCacheTier, IDisposable
{
    private const string Prefix = "berth:registry:cache:";
    private const string ResetMessage = "*";
    private static readonly RedisKey EpochKey = "berth:registry:cache-epoch";
    private static readonly RedisChannel Channel = RedisChannel.Literal("berth:registry:cache-invalidations");

    /// <summary>Copies and version counters expire so abandoned epochs and cold keys clean themselves up.</summary>
    private static readonly TimeSpan EntryLifetime = TimeSpan.FromHours(1);

    /// <summary>A shared read is a shortcut: rather the database than a stalled pull.</summary>
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromMilliseconds(250);

    private const string ReadScript = """
        local e = redis.call('GET', KEYS[1]) or '0'
        local p = ARGV[1] .. e .. ':'
        local v = redis.call('GET', p .. 'v:' .. ARGV[2]) or '0'
        return { redis.call('GET', p .. 'c:' .. ARGV[2]) or false, e .. ':' .. v }
        """;

    private const string StoreScript = """
        local e = redis.call('GET', KEYS[1]) or '0'
        local p = ARGV[1] .. e .. ':'
        local v = redis.call('GET', p .. 'v:' .. ARGV[2]) or '0'
        if e .. ':' .. v ~= ARGV[4] then return 0 end
        redis.call('SET', p .. 'c:' .. ARGV[2], ARGV[3], 'EX', ARGV[5])
        return 1
        """;

    private const string InvalidateScript = """
        local e = redis.call('GET', KEYS[1]) or '0'
        local p = ARGV[1] .. e .. ':'
        redis.call('INCR', p .. 'v:' .. ARGV[2])
        redis.call('EXPIRE', p .. 'v:' .. ARGV[2], ARGV[4])
        redis.call('DEL', p .. 'c:' .. ARGV[2])
        redis.call('PUBLISH', ARGV[3], ARGV[2])
        return 1
        """;

    private const string NewEpochScript = """
        redis.call('INCR', KEYS[1])
        redis.call('PUBLISH', ARGV[1], ARGV[2])
        return 1
        """;

    private readonly ConnectionMultiplexer _redis;
    private readonly ILogger<RedisCacheTier> _logger;
    private readonly Lock _trustGate = new();
    private volatile bool _trusted;
    private Task _establishing = Task.CompletedTask;

    public RedisCacheTier(string configuration, ILogger<RedisCacheTier> logger)
    {
        _logger = logger;
        var options = ConfigurationOptions.Parse(configuration);
        // Start without Redis if need be: the registry serves from the database meanwhile.
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = 2000;
        options.SyncTimeout = 2000;
        options.AsyncTimeout = 2000;
        options.ReconnectRetryPolicy = new LinearRetry(500);
        _redis = ConnectionMultiplexer.Connect(options);
        _redis.ConnectionFailed += (_, e) => Distrust($"connection failed: {e.FailureType}");
        _redis.ConnectionRestored += (_, _) => Establish();
        _redis.GetSubscriber().Subscribe(Channel, (_, message) =>
        {
            if (!message.HasValue) return;
            var key = message.ToString();
            if (key == ResetMessage) Reset?.Invoke();
            else Invalidated?.Invoke(key);
        });
        if (_redis.IsConnected) Establish();
    }

    public bool Trusted => _trusted;

    public event Action<string>? Invalidated;

    public event Action? Reset;

    public void Announce(string key)
    {
        try
        {
            _redis.GetDatabase().ScriptEvaluate(InvalidateScript, [EpochKey],
                [Prefix, key, Channel.ToString(), (long)EntryLifetime.TotalSeconds], CommandFlags.FireAndForget);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // The others are disconnected too or will be soon; each distrusts its own cache then.
            Distrust($"publish failed: {e.Message}");
        }
    }

    public async ValueTask<SharedRead> ReadAsync(string key)
    {
        if (!_trusted) return SharedRead.Unavailable;
        try
        {
            var result = (RedisResult[])(await _redis.GetDatabase().ScriptEvaluateAsync(ReadScript, [EpochKey], [Prefix, key]).WaitAsync(ReadTimeout))!;
            return new SharedRead(result[0].IsNull ? null : (byte[]?)result[0], result[1].ToString());
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            return SharedRead.Unavailable;
        }
    }

    public void Store(string key, byte[] value, SharedRead read)
    {
        if (read.Version is null || !_trusted) return;
        try
        {
            _redis.GetDatabase().ScriptEvaluate(StoreScript, [EpochKey],
                [Prefix, key, value, read.Version, (long)EntryLifetime.TotalSeconds], CommandFlags.FireAndForget);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // A copy not stored is only a later miss.
        }
    }

    private void Distrust(string why)
    {
        if (!_trusted) return;
        _trusted = false;
        _logger.LogWarning("Cache coherence lost ({Reason}); answering from the database until Redis is back", why);
        Reset?.Invoke();
    }

    /// <summary>
    /// Trusts the cache again once a new epoch is started: shared copies from before
    /// may have missed invalidations this or another instance could not send, and so
    /// may this instance's memory (cleared here) and the others' (cleared on the reset message).
    /// </summary>
    private void Establish()
    {
        lock (_trustGate)
        {
            if (!_establishing.IsCompleted) return;
            _establishing = Task.Run(async () =>
            {
                while (!_trusted && _redis.IsConnected)
                {
                    try
                    {
                        await _redis.GetDatabase().ScriptEvaluateAsync(NewEpochScript, [EpochKey], [Channel.ToString(), ResetMessage]);
                        Reset?.Invoke();
                        _trusted = true;
                        _logger.LogInformation("Cache coherence over Redis established");
                    }
                    catch (Exception e) when (e is RedisException or TimeoutException)
                    {
                        await Task.Delay(500);
                    }
                }
            });
        }
    }

    public void Dispose() => _redis.Dispose();
}
