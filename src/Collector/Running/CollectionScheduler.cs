using Berth.Collector.Data;
using Berth.Registry.Collection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.Collector.Running;

/// <summary>At start, finishes what a crash cut off; then collects the whole registry every <see cref="CollectorOptions.Interval"/>.</summary>
public sealed class CollectionScheduler(CollectorInitializer initializer, CollectionRunner runner, IOptions<CollectorOptions> options, ILogger<CollectionScheduler> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await initializer.Ready.WaitAsync(stoppingToken);
        await runner.ResumeInterruptedAsync(stoppingToken);
        var interval = options.Value.Interval;
        if (interval <= TimeSpan.Zero) return;
        using var timer = new PeriodicTimer(interval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await runner.RunAsync(CollectionScope.All, dryRun: false, CollectionRunner.Scheduled, stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogError(e, "Scheduled collection failed; the next one runs in {Interval}", interval);
            }
        }
    }
}
