using Berth.Access;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Berth.Registry.Services;

/// <summary>
/// The shared cache tier on Redis. Invalidations (and hints, prefixed "+") are
/// published on one channel every registry instance subscribes to; copies live under
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
    private const string HintPrefix = "+";
    private static readonly RedisKey EpochKey = "berth:registry:cache-epoch";
    private static readonly RedisChannel Channel = RedisChannel.Literal("berth:registry:cache-invalidations");

    /// <summary>
    /// Copies, in Redis and in each instance's memory, live this long at most. An
    /// instance cut off from Redis cannot announce its writes; the others may serve
    /// what those writes replaced until it reconnects (its new epoch resets them) or,
    /// if it never does, until their copies expire.
    /// </summary>
    private static readonly TimeSpan CopyLifetime = TimeSpan.FromSeconds(30);

    /// <summary>Version counters outlive every copy (and every fill prepared against one), then clean themselves up.</summary>
    private static readonly TimeSpan VersionLifetime = TimeSpan.FromHours(1);

    /// <summary>How long re-establishing waits to hear its own reset through the subscription.</summary>
    private static readonly TimeSpan ResetEchoTimeout = TimeSpan.FromSeconds(2);

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
        redis.call('SET', p .. 'c:' .. ARGV[2], ARGV[3], 'PX', ARGV[5])
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
    private readonly CancellationTokenSource _disposed = new();
    private volatile bool _trusted;

    /// <summary>Moves on with every lost connection: trust won before a loss is not granted after it.</summary>
    private long _connectionGeneration;

    private Task _establishing = Task.CompletedTask;
    private bool _subscribed;
    private (string Nonce, TaskCompletionSource Heard)? _awaitedReset;

    public RedisCacheTier(string configuration, ILogger<RedisCacheTier> logger)
    {
        _logger = logger;
        // Commands fail at once while disconnected (no backlog): an invalidation that
        // cannot be sent must not wait in a queue while the others serve what it would drop.
        _redis = ConnectionMultiplexer.Connect(RedisConnection.Options(configuration));
        _redis.ConnectionFailed += (_, e) => Distrust($"connection failed: {e.FailureType}");
        _redis.ConnectionRestored += (_, _) => Establish();
        Establish();
    }

    /// <summary>Invalidations and resets from every instance, including this one's own.</summary>
    private void OnMessage(RedisChannel channel, RedisValue message)
    {
        if (!message.HasValue) return;
        var key = message.ToString();
        if (key.StartsWith(HintPrefix, StringComparison.Ordinal))
        {
            Hinted?.Invoke(key[HintPrefix.Length..]);
            return;
        }
        if (!key.StartsWith(ResetMessage, StringComparison.Ordinal))
        {
            Invalidated?.Invoke(key);
            return;
        }
        Reset?.Invoke();
        if (_awaitedReset is { } awaited && key.AsSpan(ResetMessage.Length).SequenceEqual(awaited.Nonce)) awaited.Heard.TrySetResult();
    }

    /// <summary>How long a copy may be kept: bounds what a writer that could not announce leaves stale elsewhere.</summary>
    public TimeSpan? EntryLifetime => CopyLifetime;

    public bool Trusted => _trusted;

    public event Action<string>? Invalidated;

    public event Action? Reset;

    public event Action<string>? Hinted;

    public void Announce(string key)
    {
        try
        {
            _redis.GetDatabase().ScriptEvaluate(InvalidateScript, [EpochKey],
                [Prefix, key, Channel.ToString(), (long)VersionLifetime.TotalSeconds], CommandFlags.FireAndForget);
        }
        catch (Exception e) when (RedisConnection.IsOutage(e))
        {
            // The others are disconnected too or will be soon; each distrusts its own cache then.
            Distrust($"publish failed: {e.Message}");
        }
    }

    public void Hint(string key)
    {
        try
        {
            _redis.GetSubscriber().Publish(Channel, HintPrefix + key, CommandFlags.FireAndForget);
        }
        catch (Exception e) when (RedisConnection.IsOutage(e))
        {
            // A lost hint costs the others one database read later; the outage itself is noticed elsewhere.
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
        catch (Exception e) when (RedisConnection.IsOutage(e))
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
                [Prefix, key, value, read.Version, (long)CopyLifetime.TotalMilliseconds], CommandFlags.FireAndForget);
        }
        catch (Exception e) when (RedisConnection.IsOutage(e))
        {
            // A copy not stored is only a later miss.
        }
    }

    private void Distrust(string why)
    {
        bool wasTrusted;
        lock (_trustGate)
        {
            _connectionGeneration++;
            wasTrusted = _trusted;
            _trusted = false;
        }
        if (!wasTrusted) return;
        _logger.LogWarning("Cache coherence lost ({Reason}); answering from the database until Redis is back", why);
        Reset?.Invoke();
        Establish();
    }

    /// <summary>
    /// Trusts the cache again once both connections work: a new epoch is started
    /// (shared copies from before may have missed invalidations this or another
    /// instance could not send) with a reset message carrying a nonce, and trust
    /// comes only when that message has come back through this instance's own
    /// subscription, so invalidations are being heard again. The reset clears this
    /// instance's memory and the others'. A connection lost meanwhile voids the attempt.
    /// </summary>
    private void Establish()
    {
        lock (_trustGate)
        {
            if (!_establishing.IsCompleted || _disposed.IsCancellationRequested) return;
            _establishing = Task.Run(EstablishAsync);
        }
    }

    private async Task EstablishAsync()
    {
        while (!_trusted && !_disposed.IsCancellationRequested)
        {
            long generation;
            lock (_trustGate) generation = _connectionGeneration;
            var nonce = Guid.NewGuid().ToString("N");
            var heard = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _awaitedReset = (nonce, heard);
            try
            {
                // Subscribed here rather than in the constructor: Redis may be down when the
                // registry starts, and the registry must start (and serve, uncached) anyway.
                if (!_subscribed)
                {
                    await _redis.GetSubscriber().SubscribeAsync(Channel, OnMessage);
                    _subscribed = true;
                }
                await _redis.GetDatabase().ScriptEvaluateAsync(NewEpochScript, [EpochKey], [Channel.ToString(), ResetMessage + nonce]);
                await heard.Task.WaitAsync(ResetEchoTimeout, _disposed.Token);
                lock (_trustGate)
                {
                    if (generation != _connectionGeneration) continue;
                    _trusted = true;
                }
                _logger.LogInformation("Cache coherence over Redis established");
            }
            catch (Exception e) when (RedisConnection.IsOutage(e) && !_disposed.IsCancellationRequested)
            {
                try { await Task.Delay(500, _disposed.Token); } catch (OperationCanceledException) { return; }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            finally
            {
                _awaitedReset = null;
            }
        }
    }

    public void Dispose()
    {
        _disposed.Cancel();
        _redis.Dispose();
        _disposed.Dispose();
    }
}
