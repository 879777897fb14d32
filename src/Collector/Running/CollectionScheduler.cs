using Berth.Collector.Data;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.Collector.Running;

/// <summary>
/// At start, and then every minute (or every <see cref="CollectorOptions.Interval"/> if
/// shorter), asks the runner for a round of the schedule: it finishes what a crash cut
/// off, here or on another instance, and collects the whole registry once per interval
/// among all instances, the first an interval after start.
/// </summary>
public sealed class CollectionScheduler(CollectorInitializer initializer, CollectorDb collectorDb, CollectionRunner runner, IOptions<CollectorOptions> options, ILogger<CollectionScheduler> logger)
    : BackgroundService
{
    private static readonly TimeSpan LongestPause = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await initializer.Ready.WaitAsync(stoppingToken);
        var interval = options.Value.Interval;
        var started = collectorDb.Now();
        var pause = interval > TimeSpan.Zero && interval < LongestPause ? interval : LongestPause;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await runner.RunScheduledAsync(interval, started, stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogError(e, "Scheduled collection failed; trying again in {Pause}", pause);
            }
            try { await Task.Delay(pause, stoppingToken); } catch (OperationCanceledException) { return; }
        }
    }
}
