using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Berth.Access;

/// <summary>
/// Auth's public signing keys shared through Redis. Auth writes its JWKS document
/// under one key and announces rotations on one channel; registries read the key
/// instead of calling Auth, and they and the other Auth instances look again as
/// soon as a rotation is announced. Redis is a shortcut, never a dependency: while
/// it is away every call reports nothing (one warning per outage), and callers go
/// on with the database (Auth) or the JWKS endpoint (registries).
/// </summary>
public sealed class RedisSigningKeys(string configuration, ILogger<RedisSigningKeys> logger) : IDisposable
{
    private static readonly RedisKey JwksKey = "berth:auth:jwks";
    private static readonly RedisChannel ChangedChannel = RedisChannel.Literal("berth:auth:keys-changed");

    // Auth rewrites the document every few seconds; when no Auth instance does any
    // more, it expires and registries ask the JWKS endpoint rather than trust it.
    private static readonly TimeSpan JwksLifetime = TimeSpan.FromMinutes(2);

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

    /// <summary>The JWKS document Auth last shared, or null when there is none or Redis is away.</summary>
    public Task<string?> ReadJwksAsync() =>
        TryAsync("read the signing keys", async redis => (string?)await redis.GetDatabase().StringGetAsync(JwksKey));

    public Task WriteJwksAsync(string jwks) =>
        TryAsync("share the signing keys", async redis => (object?)await redis.GetDatabase().StringSetAsync(JwksKey, jwks, JwksLifetime));

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
        catch (Exception e) when (e is RedisException or TimeoutException)
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
