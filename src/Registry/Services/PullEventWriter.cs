using Berth.Contracts;
using Berth.Contracts.Registry;
using Berth.Data.Background;
using Berth.Data.Outbox;
using Berth.Registry.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Berth.Registry.Services;

/// <summary>
/// Delivers queued pull events: whatever arrived within a short window (up to
/// <see cref="MaxBatch"/>) as one <see cref="ManifestsPulled"/> event, so thousands
/// of pulls a second cost a few messages a second.
/// A pull changes nothing in the registry's database, so there is no change for an
/// event to be atomic with: a batch is published straight to the bus, and the outbox
/// is its fallback. A batch whose publish fails (or takes longer than
/// <see cref="PublishTimeout"/>) goes to the outbox, which sends it once the bus is
/// back (consumers de-duplicate by event id, so a publish that got through after all
/// costs nothing), and for <see cref="OutboxSpell"/> after a failure every batch goes
/// there directly rather than wait out another timeout. Going straight to the bus
/// saves writing each batch, marking it sent and purging it: on SQLite, half of what
/// recording a pull costs.
/// A batch whose outbox write fails is retried, as the same event, until it is stored:
/// a database failover delays pull events rather than losing them, and what
/// arrives meanwhile waits in the bounded queue (which drops and counts only
/// when full). On shutdown the batch in hand and the queue get a short last
/// chance, and what cannot be written then is dropped and counted.
/// </summary>
public sealed class PullEventWriter(
    PullEventQueue queue, RegistryDb registryDb, IEventPublisher publisher, LowPriorityScheduler lowPriority, RegistryMetrics metrics, TimeProvider clock, ILogger<PullEventWriter> logger)
    : BackgroundService
{
    /// <summary>How long a direct publish may take before its batch goes to the outbox instead.</summary>
    public static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(5);

    /// <summary>After a failed publish, how long batches go to the outbox without trying the bus first.</summary>
    public static readonly TimeSpan OutboxSpell = TimeSpan.FromSeconds(30);

    private DateTimeOffset _publishAgainAt = DateTimeOffset.MinValue;

    private bool _escalated;

    /// <summary>
    /// Keeps one outbox row, and the message it becomes, to about 380 KB (2 MB as full records,
    /// see <see cref="PullBatchJson"/>). A batch is one transaction in the audit log, and each
    /// commit rewrites every index page it touched (a pull lands on its repository's page).
    /// bench/AuditIngest, three runs of each size taken in turn: batches of 5,000 wrote 1,423–1,441 bytes an entry against 1,915–1,924
    /// for batches of 1,000, at medians of 10.6–11.6 µs of CPU an entry against 11.1–12.6.
    /// </summary>
    public const int MaxBatch = 5000;

    private static readonly TimeSpan Window = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan LongestRetry = TimeSpan.FromSeconds(5);

    /// <summary>Stopping should not wait out a database outage.</summary>
    private const int AttemptsWhenStopping = 2;

    /// <summary>On the <see cref="LowPriorityScheduler"/>: recording pulls yields the CPU to serving them.</summary>
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => lowPriority.RunAsync(() => WriteAsync(stoppingToken));

    private async Task WriteAsync(CancellationToken stoppingToken)
    {
        ManifestsPulled? inHand = null;
        try
        {
            var full = false;
            while (true)
            {
                await queue.WaitForPullsAsync(stoppingToken);
                // Let a window's worth of pulls gather: one transaction for many. After a full
                // batch more are already waiting, and waiting anyway would cap throughput at a batch per window.
                if (!full) await Task.Delay(Window, clock, stoppingToken);
                if (Take() is not { } batch) continue;
                inHand = batch;
                full = batch.Pulls.Count == MaxBatch;
                await LowPriorityScheduler.AtNormalPriorityIf(Escalate(batch), () => StoreAsync(batch, int.MaxValue, stoppingToken));
                inHand = null;
            }
        }
        catch (Exception) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping, whatever the interrupted write threw: the batch in hand and the queue get their last chance below.
        }
        catch (Exception e)
        {
            // Write failures are retried inside, so this is a defect; it may end pull events, never the host.
            logger.LogCritical(e, "The pull event writer failed; pull events are no longer recorded");
        }
        // At normal priority: a stop has a deadline, and a busy machine would leave idle-priority work waiting past it.
        await Task.Run(() => StoreRemainingAsync(inHand), CancellationToken.None);
    }

    /// <summary>
    /// Stores <paramref name="pulled"/> in the outbox unless it is there already. A write
    /// whose commit succeeded but reported failure is retried; the retry finds its own row
    /// (the event id never changes) rather than publish the pulls twice. Should that row
    /// appear between the look and the insert (the earlier commit still settling), the
    /// insert hits the outbox key: <see cref="Berth.Data.TransientConflict"/> recognises
    /// that on both providers, and the write runs again and finds the row.
    /// </summary>
    internal static Task WriteOnceAsync(RegistryDb registryDb, ManifestsPulled pulled, CancellationToken cancellationToken) =>
        registryDb.WriteAsync(async db =>
        {
            if (await db.Set<OutboxMessage>().AnyAsync(m => m.Id == pulled.EventId, cancellationToken)) return;
            db.Publish(pulled);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);

    /// <summary>
    /// Whether <paramref name="batch"/> goes at normal priority. The writer runs at low
    /// priority, so a burst of pulls is served first and its events follow; once more than
    /// half the queue waits, batches go at normal priority until under a quarter does, rather
    /// than let a long burst fill the queue and lose pulls. Counted, and logged when it starts
    /// and ends: meanwhile recording slows pulls.
    /// </summary>
    private bool Escalate(ManifestsPulled batch)
    {
        var waiting = queue.Count;
        var escalate = _escalated ? waiting >= PullEventQueue.Capacity / 4 : waiting > PullEventQueue.Capacity / 2;
        if (escalate != _escalated)
        {
            _escalated = escalate;
            if (escalate) logger.LogWarning("Pull events are falling behind ({Waiting} waiting): recording them at normal priority until the queue is under a quarter full", waiting);
            else logger.LogInformation("Pull events have caught up ({Waiting} waiting): recording them at low priority again", waiting);
        }
        if (escalate) metrics.PullEventsEscalated(batch.Pulls.Count);
        return escalate;
    }

    /// <summary>Up to <see cref="MaxBatch"/> queued pulls as one event, made once so that every retry writes the same event id; null when none are queued.</summary>
    private ManifestsPulled? Take()
    {
        var pulls = new List<ManifestPulled>();
        while (pulls.Count < MaxBatch && queue.TryTake(out var pulled)) pulls.Add(pulled);
        return pulls.Count == 0 ? null : new ManifestsPulled(pulls) { Actor = EventActor.System };
    }

    /// <summary>
    /// Writes <paramref name="pulled"/>, backing off exponentially between failed attempts;
    /// false once <paramref name="attempts"/> have failed. Only a cancelled
    /// <paramref name="cancellationToken"/> makes it throw.
    /// </summary>
    private async Task<bool> StoreAsync(ManifestsPulled pulled, int attempts, CancellationToken cancellationToken)
    {
        if (await TryPublishAsync(pulled, cancellationToken)) return true;
        var wait = FirstRetry;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await WriteOnceAsync(registryDb, pulled, cancellationToken);
                return true;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning("Writing {Count} pull events failed (attempt {Attempt}): {Error}", pulled.Pulls.Count, attempt, e.Message);
                if (attempt >= attempts) return false;
            }
            await Task.Delay(wait, clock, cancellationToken);
            wait = wait * 2 < LongestRetry ? wait * 2 : LongestRetry;
        }
    }

    /// <summary>
    /// Publishes <paramref name="pulled"/> straight to the bus unless a publish failed within
    /// the last <see cref="OutboxSpell"/>; false when the batch must go to the outbox.
    /// </summary>
    private async Task<bool> TryPublishAsync(ManifestsPulled pulled, CancellationToken cancellationToken)
    {
        if (clock.GetUtcNow() < _publishAgainAt) return false;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(PublishTimeout);
        try
        {
            await publisher.PublishAsync(pulled, timeout.Token);
            return true;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            _publishAgainAt = clock.GetUtcNow() + OutboxSpell;
            logger.LogWarning("Publishing {Count} pull events failed ({Error}); they and the next {Spell} s of pulls go through the outbox",
                pulled.Pulls.Count, e.Message, OutboxSpell.TotalSeconds);
            metrics.PullEventsDeferred(pulled.Pulls.Count);
            return false;
        }
    }

    /// <summary>
    /// On shutdown: the batch in hand, then the queue, a few attempts each. Once a batch
    /// cannot be written the database is away, and the rest is dropped and counted
    /// rather than hold up the stop.
    /// </summary>
    private async Task StoreRemainingAsync(ManifestsPulled? inHand)
    {
        for (var pulled = inHand ?? Take(); pulled is not null; pulled = Take())
        {
            if (await StoreAsync(pulled, AttemptsWhenStopping, CancellationToken.None)) continue;
            var dropped = pulled.Pulls.Count;
            while (queue.TryTake(out _)) dropped++;
            logger.LogError("Dropping {Count} pull events: the outbox could not be written while stopping", dropped);
            metrics.PullEventsDropped(dropped);
            return;
        }
    }
}
