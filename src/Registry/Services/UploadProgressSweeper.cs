using Microsoft.Extensions.Hosting;

namespace Berth.Registry.Services;

/// <summary>Every few minutes, drops the running hashes of uploads idle for a quarter of an hour.</summary>
public sealed class UploadProgressSweeper(UploadProgress progress, TimeProvider clock) : BackgroundService
{
    public static readonly TimeSpan Idle = TimeSpan.FromMinutes(15);
    private static readonly TimeSpan Period = TimeSpan.FromMinutes(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken)) progress.ForgetIdle(Idle);
    }
}
