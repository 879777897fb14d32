using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Berth.Registry.Collection;

/// <summary>
/// Ends expired tags every few seconds, between collections: reads already treat
/// an expired tag as gone, and ending its row also drops it from every cache and
/// records the TagExpired event. Several registry instances may all run this; a
/// row ends once whoever gets there first.
/// </summary>
public sealed class TagExpiryWatcher(GarbageCollector collector, ILogger<TagExpiryWatcher> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await collector.ExpireDueTagsAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "Ending expired tags failed; trying again in {Interval}", Interval);
            }
        }
    }
}
