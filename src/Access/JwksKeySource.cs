using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace Berth.Access;

/// <summary>
/// The token signing keys read from Auth's JWKS endpoint, for a registry that
/// runs without the Auth module in its process. Refreshed every 30 seconds; a
/// token signed by a key newer than the last refresh is refused until then.
/// </summary>
public sealed class JwksKeySource(HttpClient http, string jwksUrl, ILogger<JwksKeySource> logger) : BackgroundService, ITrustedKeySource
{
    private static readonly TimeSpan Refresh = TimeSpan.FromSeconds(30);
    private volatile IReadOnlyList<SecurityKey> _keys = [];

    public IEnumerable<SecurityKey> Keys => _keys;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var json = await http.GetStringAsync(jwksUrl, stoppingToken);
                _keys = [.. new JsonWebKeySet(json).GetSigningKeys()];
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("Could not read token keys from {Url}: {Error}; keeping {Count} known keys", jwksUrl, e.Message, _keys.Count);
            }
            try { await Task.Delay(Refresh, stoppingToken); } catch (OperationCanceledException) { return; }
        }
    }
}
