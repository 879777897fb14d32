using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace Berth.Access;

/// <summary>
/// The token signing keys Auth publishes, for a registry that runs without the Auth
/// module in its process, read from Auth's JWKS endpoint: every 30 seconds, at once
/// when Auth announces a rotation over Redis (when the registry has Redis), and when
/// a token names a key not known yet, so a freshly rotated key is accepted at once.
/// </summary>
public sealed class JwksKeySource(HttpClient http, string jwksUrl, TimeProvider clock, ILogger<JwksKeySource> logger, RedisSigningKeys? shared = null)
    : BackgroundService, ITrustedKeySource
{
    private static readonly TimeSpan Refresh = TimeSpan.FromSeconds(30);

    // Key ids come from whoever sends a token: made-up ones must not become a flood of reads.
    private static readonly TimeSpan UnknownKeyReadInterval = TimeSpan.FromSeconds(5);

    // A request waits for this read: shorter than the client's timeout, so an unreachable Auth costs little.
    private static readonly TimeSpan UnknownKeyReadTimeout = TimeSpan.FromSeconds(3);

    private readonly SemaphoreSlim _reading = new(1, 1);
    private volatile IReadOnlyList<SecurityKey> _keys = [];
    private DateTimeOffset _lastUnknownKeyRead = DateTimeOffset.MinValue;

    public IEnumerable<SecurityKey> Keys => _keys;

    public async ValueTask<bool> TryLearnKeyAsync(string keyId)
    {
        if (Knows(keyId)) return true;
        // A read under way (scheduled, or for another request) may bring the key: wait for it, within bounds.
        if (!await _reading.WaitAsync(UnknownKeyReadTimeout)) return Knows(keyId);
        try
        {
            if (Knows(keyId)) return true;
            var now = clock.GetUtcNow();
            if (now - _lastUnknownKeyRead < UnknownKeyReadInterval) return false;
            _lastUnknownKeyRead = now;
            using var timeout = new CancellationTokenSource(UnknownKeyReadTimeout);
            await ReadAsync(timeout.Token);
            return Knows(keyId);
        }
        catch (OperationCanceledException)
        {
            logger.LogWarning("Could not read token keys from {Url} within {Timeout}; keeping {Count} known keys", jwksUrl, UnknownKeyReadTimeout, _keys.Count);
            return false;
        }
        finally
        {
            _reading.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                if (shared is not null) await shared.ListenAsync();
                var announced = shared?.NextAnnouncement;
                await _reading.WaitAsync(stoppingToken);
                try { await ReadAsync(stoppingToken); }
                finally { _reading.Release(); }
                var due = Task.Delay(Refresh, clock, stoppingToken);
                await (announced is null ? due : Task.WhenAny(announced, due));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Reads the keys; on failure keeps the ones it has. Only a cancelled
    /// <paramref name="cancellationToken"/> is thrown. Callers hold <see cref="_reading"/>.
    /// </summary>
    private async Task ReadAsync(CancellationToken cancellationToken)
    {
        try
        {
            var json = await http.GetStringAsync(jwksUrl, cancellationToken);
            _keys = [.. new JsonWebKeySet(json).GetSigningKeys()];
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Could not read token keys from {Url}: {Error}; keeping {Count} known keys", jwksUrl, e.Message, _keys.Count);
        }
    }

    private bool Knows(string keyId) => _keys.Any(k => k.KeyId == keyId);

    public override void Dispose()
    {
        base.Dispose();
        shared?.Dispose();
        _reading.Dispose();
    }
}
