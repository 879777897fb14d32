using Berth.Registry.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Berth.Registry.Services;

/// <summary>Writes the last pull times <see cref="PullTimes"/> gathered, every half minute and at shutdown.</summary>
public sealed class PullTimeWriter(PullTimes pullTimes, RegistryDb registryDb, ILogger<PullTimeWriter> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken)) await FlushAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await FlushAsync(CancellationToken.None);
    }

    /// <summary>Writes what was recorded; on failure the times are lost, which only makes a tag look less recently pulled until its next pull.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        var (tags, manifests) = pullTimes.Drain();
        if (tags.Count == 0 && manifests.Count == 0) return;
        try
        {
            await registryDb.WriteAsync(async db =>
            {
                foreach (var ((repositoryId, tag), at) in tags)
                    await db.Tags.Where(t => t.RepositoryId == repositoryId && t.Name == tag && t.EndedAt == null)
                        .ExecuteUpdateAsync(u => u.SetProperty(t => t.LastPulledAt, at), cancellationToken);
                foreach (var (manifestId, at) in manifests)
                    await db.Manifests.Where(m => m.Id == manifestId).ExecuteUpdateAsync(u => u.SetProperty(m => m.LastPulledAt, at), cancellationToken);
            }, cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Writing {Count} last-pull times failed: {Error}", tags.Count + manifests.Count, e.Message);
        }
    }
}
