using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Berth.Registry.Services;

/// <summary>
/// Cache coherence over Redis pub/sub: invalidations are published on one
/// channel that every registry instance subscribes to. When the connection
/// drops, this instance stops trusting its cache (and clears it) until it is
/// subscribed again, so a Redis outage makes the registry slower, never wrong.
/// </summary>
public sealed class RedisCacheCoherence : ICacheCoherence, IDisposable
{
    private static readonly RedisChannel Channel = RedisChannel.Literal("berth:registry:cache-invalidations");
    private readonly ConnectionMultiplexer _redis;
    private readonly ILogger<RedisCacheCoherence> _logger;
    private volatile bool _trusted;

    public RedisCacheCoherence(string configuration, ILogger<RedisCacheCoherence> logger)
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
        _redis.ConnectionRestored += (_, _) => Trust();
        _redis.GetSubscriber().Subscribe(Channel, (_, message) =>
        {
            if (message.HasValue) Invalidated?.Invoke(message.ToString());
        });
        if (_redis.IsConnected) Trust();
    }

    public bool Trusted => _trusted;

    public event Action<string>? Invalidated;

    public event Action? Reset;

    public void Announce(string key)
    {
        try
        {
            _redis.GetSubscriber().Publish(Channel, key, CommandFlags.FireAndForget);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // The others are disconnected too or will be soon; each distrusts its own cache then.
            Distrust($"publish failed: {e.Message}");
        }
    }

    private void Distrust(string why)
    {
        if (!_trusted) return;
        _trusted = false;
        _logger.LogWarning("Cache coherence lost ({Reason}); answering from the database until Redis is back", why);
        Reset?.Invoke();
    }

    private void Trust()
    {
        // What was cached before the outage may have missed invalidations: drop it before trusting again.
        Reset?.Invoke();
        _trusted = true;
        _logger.LogInformation("Cache coherence over Redis established");
    }

    public void Dispose() => _redis.Dispose();
}
