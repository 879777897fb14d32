using Berth.AuditLog.Data;
using Berth.Data;
using Berth.Data.Background;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.AuditLog.Shipping;

/// <summary>
/// Ships the log to one sink, at least once and in order: entries after the sink's
/// durable checkpoint, a bounded batch at a time, in id order; the checkpoint moves
/// past what the sink confirmed, so after an outage of any length everything in
/// between arrives, and a restart resumes where the sink left off. Failures back
/// off exponentially up to <see cref="AuditLogOptions.ShippingMaxBackoff"/>.
/// </summary>
public sealed class SinkShipper(
    IAuditSink sink,
    AuditLogDb auditLogDb,
    ShippingSignal signal,
    LowPriorityScheduler lowPriority,
    AuditLogMetrics metrics,
    IOptions<AuditLogOptions> options,
    TimeProvider clock,
    ILogger<SinkShipper> logger) : BackgroundService
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan IdlePoll = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Shipping runs at low priority, in the CPU time serving leaves; once the oldest entry
    /// it last found waiting is older than this, batches go at normal priority, so a machine
    /// that stays busy delays shipping by seconds rather than for as long as it stays busy.
    /// </summary>
    public static readonly TimeSpan IdlePriorityLagLimit = TimeSpan.FromSeconds(10);

    /// <summary>When the oldest entry of the last batch read happened; null when none was waiting.</summary>
    private DateTime? _oldestWaiting;

    private bool FallenBehind => _oldestWaiting is { } oldest && clock.GetUtcNow().UtcDateTime - oldest > IdlePriorityLagLimit;

    /// <summary>On the <see cref="LowPriorityScheduler"/>: shipping yields the CPU to serving.</summary>
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => lowPriority.RunAsync(() => ShipAsync(stoppingToken));

    private async Task ShipAsync(CancellationToken stoppingToken)
    {
        var wake = signal.Listen();
        var backoff = TimeSpan.Zero;
        var prepared = false;
        var failing = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!prepared)
                {
                    await sink.PrepareAsync(stoppingToken);
                    prepared = true;
                }
                var (shipped, complete) = await LowPriorityScheduler.AtNormalPriorityIf(FallenBehind, () => ShipNextBatchAsync(stoppingToken));
                if (complete)
                {
                    if (failing) logger.LogInformation("Audit sink {Sink} is accepting entries again", sink.Name);
                    failing = false;
                    backoff = TimeSpan.Zero;
                    if (shipped == 0) await WaitForEntriesAsync(wake, stoppingToken);
                    continue;
                }
                metrics.ShipFailed(sink.Name);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                metrics.ShipFailed(sink.Name);
                if (!failing) logger.LogWarning("Audit sink {Sink} failed ({Error}); retrying with backoff, nothing is lost meanwhile", sink.Name, e.Message);
                failing = true;
            }
            catch (OperationCanceledException)
            {
                return;
            }
            backoff = backoff == TimeSpan.Zero ? FirstBackoff : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, options.Value.ShippingMaxBackoff.Ticks));
            try { await Task.Delay(backoff, clock, stoppingToken); } catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>
    /// Ships one batch; returns how many entries went out and whether the sink took the
    /// whole batch. Instances sharing the database take turns per sink, so each batch is
    /// sent by one of them, from the checkpoint the last one left.
    /// </summary>
    public async Task<(int Shipped, bool Complete)> ShipNextBatchAsync(CancellationToken cancellationToken)
    {
        await using var turn = await ExclusiveTurn.TakeAsync(auditLogDb, "auditlog-sink:" + sink.Name, cancellationToken);
        long checkpoint;
        List<AuditEntry> batch;
        long newest;
        await using (var db = auditLogDb.Open())
        {
            checkpoint = await db.Checkpoints.Where(c => c.Sink == sink.Name).Select(c => (long?)c.LastShippedId).FirstOrDefaultAsync(cancellationToken) ?? 0;
            batch = await AuditEntryRead.NextAsync(db, checkpoint, options.Value.ShippingBatchSize, cancellationToken);
            newest = await db.LastIdAsync(cancellationToken);
        }
        _oldestWaiting = batch.Count == 0 ? null : batch[0].OccurredAt;
        metrics.SetLag(sink.Name, Math.Max(0, newest - checkpoint),
            batch.Count == 0 ? 0 : Math.Max(0, (clock.GetUtcNow().UtcDateTime - batch[0].OccurredAt).TotalSeconds));
        if (batch.Count == 0) return (0, true);

        var accepted = Math.Clamp(await sink.ShipAsync(batch, cancellationToken), 0, batch.Count);
        if (accepted > 0)
        {
            await SaveCheckpointAsync(batch[accepted - 1].Id, cancellationToken);
            metrics.Shipped(sink.Name, accepted);
            metrics.SetLag(sink.Name, Math.Max(0, newest - batch[accepted - 1].Id),
                accepted == batch.Count ? 0 : Math.Max(0, (clock.GetUtcNow().UtcDateTime - batch[accepted].OccurredAt).TotalSeconds));
        }
        return (accepted, accepted == batch.Count);
    }

    private Task SaveCheckpointAsync(long lastShippedId, CancellationToken cancellationToken) =>
        auditLogDb.WriteAsync(async db =>
        {
            var now = auditLogDb.Now();
            // Only forward, in one statement: a checkpoint never moves back, whoever writes it.
            var moved = await db.Checkpoints.Where(c => c.Sink == sink.Name).ExecuteUpdateAsync(c => c
                .SetProperty(x => x.LastShippedId, x => x.LastShippedId > lastShippedId ? x.LastShippedId : lastShippedId)
                .SetProperty(x => x.UpdatedAt, now), cancellationToken);
            if (moved > 0) return;
            // First checkpoint: a racing insert collides on the key and the retry updates instead.
            db.Checkpoints.Add(new SinkCheckpoint { Sink = sink.Name, LastShippedId = lastShippedId, UpdatedAt = now });
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);

    private static async Task WaitForEntriesAsync(SemaphoreSlim wake, CancellationToken cancellationToken)
    {
        try { await wake.WaitAsync(IdlePoll, cancellationToken); }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { }
    }
}
