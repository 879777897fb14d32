using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Berth.Access;

/// <summary>
/// Signing key rotations announced through Redis: Auth publishes on one channel,
/// and registries and the other Auth instances read the keys again as soon as they
/// hear it. Only the announcement travels through Redis; the keys themselves come
/// from Auth's database (Auth) or its JWKS endpoint (registries), because whoever
/// could write a key document into Redis could otherwise mint tokens. Redis is a
/// shortcut, never a dependency: while it is away announcements are lost (one
/// warning per outage), and callers fall back on their periodic reads.
/// </summary>
public sealed class RedisSigningKeys(string configuration, ILogger<RedisSigningKeys> logger) : IDisposable
{
    private static readonly RedisChannel ChangedChannel = RedisChannel.Literal("berth:auth:keys-changed");

    private readonly SemaphoreSlim _connecting = new(1, 1);
    private ConnectionMultiplexer? _redis;
    private volatile bool _subscribed;
    private volatile bool _unreachable;
    private TaskCompletionSource _nextAnnouncement = NewAnnouncement();

    /// <summary>
    /// Completes when an Auth instance (this one included) next announces a rotation.
    /// Take it before reading the keys, so that one announced during the read is not missed.
    /// </summary>
    public Task NextAnnouncement => Volatile.Read(ref _nextAnnouncement).Task;

    /// <summary>Subscribes to announcements unless already subscribed (Redis may have been away until now); cheap once it is.</summary>
    public Task ListenAsync() => TryAsync("listen for key rotations", _ => Task.FromResult<object?>(null));

    public Task AnnounceRotationAsync() =>
        TryAsync("announce the key rotation", async redis => (object?)await redis.GetSubscriber().PublishAsync(ChangedChannel, "rotated"));

    private async Task<T?> TryAsync<T>(string what, Func<ConnectionMultiplexer, Task<T?>> command)
    {
        try
        {
            var result = await command(await ConnectAsync());
            if (_unreachable)
            {
                _unreachable = false;
                logger.LogInformation("Redis is reachable again for signing keys");
            }
            return result;
        }
        catch (Exception e) when (RedisConnection.IsOutage(e))
        {
            if (!_unreachable)
            {
                _unreachable = true;
                logger.LogWarning("Could not {What} through Redis ({Error}); going on without it", what, e.Message);
            }
            return default;
        }
    }

    /// <summary>
    /// Connects on first use; with Redis away that costs the connect timeout once, and
    /// later commands fail at once. The subscription is retried with each call until it
    /// succeeds; after that the connection restores it after outages by itself.
    /// </summary>
    private async Task<ConnectionMultiplexer> ConnectAsync()
    {
        if (_redis is { } connected && _subscribed) return connected;
        await _connecting.WaitAsync();
        try
        {
            _redis ??= await RedisConnection.ConnectAsync(configuration);
            if (!_subscribed)
            {
                await _redis.GetSubscriber().SubscribeAsync(ChangedChannel,
                    (_, _) => Interlocked.Exchange(ref _nextAnnouncement, NewAnnouncement()).TrySetResult());
                _subscribed = true;
            }
            return _redis;
        }
        finally
        {
            _connecting.Release();
        }
    }

    private static TaskCompletionSource NewAnnouncement() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Dispose() => _redis?.Dispose();
}
