using Berth.Contracts;
using Berth.Contracts.Registry;
using Berth.Data.Outbox;
using Berth.Registry.Data;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Berth.Registry.Services;

/// <summary>
/// Moves queued pull events into the outbox: whatever arrived within a short
/// window (up to <see cref="MaxBatch"/>) as one <see cref="ManifestsPulled"/>
/// event, so thousands of pulls a second cost a few rows and messages a second.
/// From the outbox on, they are delivered like every other event. On shutdown
/// the queue is drained.
/// </summary>
public sealed class PullEventWriter(PullEventQueue queue, RegistryDb registryDb, RegistryMetrics metrics, ILogger<PullEventWriter> logger)
    : BackgroundService
{
    public const int MaxBatch = 2000;
    private static readonly TimeSpan Window = TimeSpan.FromMilliseconds(200);
    private const int Attempts = 3;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<ManifestPulled>(MaxBatch);
        try
        {
            while (await queue.Reader.WaitToReadAsync(stoppingToken))
            {
                // Let a window's worth of pulls gather: one transaction for many.
                await Task.Delay(Window, stoppingToken);
                while (batch.Count < MaxBatch && queue.Reader.TryRead(out var pulled)) batch.Add(pulled);
                await WriteAsync(batch, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: what is queued still goes to the outbox below.
        }
        while (queue.Reader.TryRead(out var pulled))
        {
            batch.Add(pulled);
            if (batch.Count == MaxBatch) await WriteAsync(batch, CancellationToken.None);
        }
        if (batch.Count > 0) await WriteAsync(batch, CancellationToken.None);
    }

    private async Task WriteAsync(List<ManifestPulled> batch, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await registryDb.WriteAsync(async db =>
                {
                    db.Publish(new ManifestsPulled([.. batch]) { Actor = EventActor.System });
                    await db.SaveChangesAsync(cancellationToken);
                }, cancellationToken);
                break;
            }
            catch (Exception e) when (e is not OperationCanceledException && attempt < Attempts)
            {
                logger.LogWarning("Writing {Count} pull events failed ({Error}); retrying", batch.Count, e.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogError("Dropping {Count} pull events: the outbox write failed {Attempts} times ({Error})", batch.Count, Attempts, e.Message);
                metrics.PullEventsDropped(batch.Count);
                break;
            }
        }
        batch.Clear();
    }
}
