using Berth.Access;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Berth.Auth.Tokens;

/// <summary>
/// Keeps this instance's key ring in line with the database, where every Auth
/// instance saves its keys: every 10 seconds, and at once when an instance
/// announces a rotation over Redis. Without it, after a rotation elsewhere this
/// instance would go on signing with the retired key, and leave the new one out
/// of its JWKS, until restarted.
/// </summary>
public sealed class SigningKeySync(SigningKeyStore store, TimeProvider clock, ILogger<SigningKeySync> logger, RedisSigningKeys? shared = null)
    : BackgroundService
{
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The first sync ran before start-up finished (AuthInitializer): this loop starts by waiting.
        if (shared is not null) await shared.ListenAsync();
        var announced = shared?.NextAnnouncement;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var due = Task.Delay(Period, clock, stoppingToken);
                await (announced is null ? due : Task.WhenAny(announced, due));
                stoppingToken.ThrowIfCancellationRequested();
                // Taken before reading the database: a rotation announced during the read wakes the next wait at once.
                if (shared is not null) await shared.ListenAsync();
                announced = shared?.NextAnnouncement;
                try
                {
                    await store.SyncAsync(stoppingToken);
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    logger.LogWarning(e, "Could not read the signing keys from the database; trying again in {Period}", Period);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
