using Berth.Collector.Data;
using Berth.Collector.Policies;
using Berth.Contracts;
using Berth.Contracts.Registry;
using Berth.Data.Outbox;
using Berth.Registry.Collection;
using Berth.Registry.Services;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.Collector.Running;

/// <summary>
/// Runs collections one at a time, across instances too (<see cref="CollectionLease"/>),
/// and keeps their history: a row per run, updated as it goes. Whoever holds the lease
/// and finds a run still "running" knows it was cut off (by a crash, here or on another
/// instance) and resumes it: every stage of a collection is idempotent, so resuming is
/// running it again, and the registry keeps the run's totals across attempts
/// (<see cref="GarbageCollector.RunAsync"/>). A finished run publishes GarbageCollected in
/// the transaction that records its end.
/// </summary>
public sealed class CollectionRunner(CollectorDb collectorDb, CollectionLease lease, GarbageCollector collector, RetentionPass retention, NamespaceUsage usage,
    CollectorMetrics metrics, ITimeMachineWindows windows, IOptions<CollectorOptions> options, ILogger<CollectionRunner> logger)
{
    private static readonly TimeSpan SaveEvery = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Records a new run and starts it in the background; null when another run is in
    /// progress here or on another instance (collections never overlap: the second
    /// would only re-check the first's work).
    /// </summary>
    public async Task<CollectionRun?> TryStartAsync(CollectionScope scope, bool dryRun, string requestedBy, CancellationToken stopping)
    {
        if (await lease.TryAcquireAsync(CancellationToken.None) is not { } held) return null;
        try
        {
            var run = await RecordAsync(scope, dryRun, requestedBy);
            _ = Task.Run(async () =>
            {
                await using (held)
                    await ExecuteAsync(run.Id, stopping);
            }, CancellationToken.None);
            return run;
        }
        catch
        {
            await held.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// One round of the schedule, if the lease is free (otherwise another instance is
    /// collecting, and nothing is due here): finishes the runs cut off, oldest first,
    /// then collects the whole registry once <paramref name="interval"/> has passed
    /// since the last scheduled collection of any instance, or since
    /// <paramref name="scheduleStarted"/> if that was later. Zero: only finishes what
    /// was cut off.
    /// </summary>
    public async Task RunScheduledAsync(TimeSpan interval, DateTime scheduleStarted, CancellationToken stopping)
    {
        // Looked at first without the lease, so that a round with nothing to do never holds it
        // (a collection asked for at that moment would be refused).
        var (interrupted, due) = await ScheduleStateAsync(interval, scheduleStarted, stopping);
        if (interrupted.Count == 0 && !due) return;
        if (await lease.TryAcquireAsync(stopping) is not { } held) return;
        await using (held)
        {
            // Again under the lease: what another instance did meanwhile counts.
            (interrupted, due) = await ScheduleStateAsync(interval, scheduleStarted, stopping);
            foreach (var id in interrupted)
            {
                await collectorDb.WriteAsync(write => write.Runs.Where(r => r.Id == id)
                    .ExecuteUpdateAsync(u => u.SetProperty(r => r.Resumes, r => r.Resumes + 1), stopping), stopping);
                logger.LogWarning("Resuming collection {RunId}, cut off before it finished", id);
                await ExecuteAsync(id, stopping);
            }
            if (!due) return;
            var run = await RecordAsync(CollectionScope.All, dryRun: false, Scheduled);
            await ExecuteAsync(run.Id, stopping);
        }
    }

    /// <summary>
    /// The runs left "running" (oldest first; cut off, when read under the lease) and
    /// whether a scheduled whole-registry collection is due.
    /// </summary>
    private async Task<(List<Guid> Running, bool Due)> ScheduleStateAsync(TimeSpan interval, DateTime scheduleStarted, CancellationToken stopping)
    {
        await using var db = collectorDb.Open();
        var running = await db.Runs.AsNoTracking().Where(r => r.Status == CollectionRun.Running).OrderBy(r => r.StartedAt)
            .Select(r => r.Id).ToListAsync(stopping);
        if (interval <= TimeSpan.Zero) return (running, false);
        var lastScheduled = await db.Runs.Where(r => r.RequestedBy == Scheduled).MaxAsync(r => (DateTime?)r.StartedAt, stopping);
        var from = lastScheduled > scheduleStarted ? lastScheduled.Value : scheduleStarted;
        return (running, collectorDb.Now() - from >= interval);
    }

    private async Task<CollectionRun> RecordAsync(CollectionScope scope, bool dryRun, string requestedBy)
    {
        var run = new CollectionRun
        {
            Id = Guid.NewGuid(),
            Namespace = scope.Repository is null ? scope.Namespace : null,
            Repository = scope.Repository,
            DryRun = dryRun,
            Status = CollectionRun.Running,
            Phase = nameof(CollectionPhase.RecoverTrash),
            RequestedBy = requestedBy,
            StartedAt = collectorDb.Now(),
        };
        await collectorDb.WriteAsync(db =>
        {
            db.Runs.Add(run);
            return db.SaveChangesAsync(CancellationToken.None);
        }, CancellationToken.None);
        return run;
    }

    private async Task<CollectionRun> ExecuteAsync(Guid runId, CancellationToken stopping)
    {
        CollectionRun run;
        await using (var db = collectorDb.Open())
            run = await db.Runs.AsNoTracking().FirstAsync(r => r.Id == runId, stopping);
        var started = DateTime.UtcNow;
        var lastSave = DateTime.MinValue;
        var lastPhase = CollectionPhase.RecoverTrash;
        var request = new CollectionRequest(run.Id, new CollectionScope(run.Namespace, run.Repository), run.DryRun, windows.WindowOf, options.Value.StaleUploadAge)
        {
            DutyCycle = options.Value.DutyCycle,
            BusyDutyCycle = options.Value.BusyDutyCycle,
            RecordedSoFar = RecordedSoFar(run),
        };
        try
        {
            // Retention first: the tags it ends are then judged by the time-machine window like any deleted tag.
            var pruned = await retention.ApplyAsync(request.Scope, run.DryRun, stopping);
            await collectorDb.WriteAsync(db => db.Runs.Where(r => r.Id == runId)
                .ExecuteUpdateAsync(u => u.SetProperty(r => r.TagsPruned, r => r.TagsPruned + pruned), stopping), stopping);
            var report = await collector.RunAsync(request, async progress =>
            {
                lastPhase = progress.Phase;
                if (DateTime.UtcNow - lastSave < SaveEvery) return;
                lastSave = DateTime.UtcNow;
                await SaveAsync(runId, progress, finished: null, error: null, publish: false, CancellationToken.None);
            }, stopping);
            metrics.Completed(report, DateTime.UtcNow - started, run.DryRun);
            // Space was freed: quotas see the new figures at once rather than after their refresh.
            if (!run.DryRun) usage.Forget();
            // The registry's tally rather than this attempt's report: should the lease have been lost
            // and another attempt have run alongside, the tally holds what both removed.
            if (!run.DryRun && await collector.RemovedSoFarAsync(runId, CancellationToken.None) is { } tallied)
            {
                tallied.Phase = report.Phase;
                report = tallied;
            }
            var succeeded = await SaveAsync(runId, report, CollectionRun.Succeeded, error: null, publish: true, CancellationToken.None);
            await ForgetTallyAsync(run);
            return succeeded;
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Shutting down: the row stays "running" and the next start resumes it.
            throw;
        }
        catch (Exception e)
        {
            logger.LogError(e, "Collection {RunId} failed", runId);
            // Without a tally (a dry run keeps none) or a database to read it from, the figures last saved stand.
            CollectionReport? removed = null;
            try
            {
                if (!run.DryRun) removed = await collector.RemovedSoFarAsync(runId, CancellationToken.None);
                if (removed is not null) removed.Phase = lastPhase;
            }
            catch (Exception readFailure)
            {
                logger.LogWarning(readFailure, "Could not read what collection {RunId} removed before it failed", runId);
            }
            var failed = await SaveAsync(runId, removed, CollectionRun.Failed, e.Message, publish: false, CancellationToken.None);
            if (removed is not null) await ForgetTallyAsync(run);
            return failed;
        }
    }

    /// <summary>Once the run's end is recorded its tally is no longer needed; one left behind here goes after a month.</summary>
    private async Task ForgetTallyAsync(CollectionRun run)
    {
        if (run.DryRun) return;
        try
        {
            await collector.ForgetTallyAsync(run.Id, CancellationToken.None);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Could not drop the tally of collection {RunId}", run.Id);
        }
    }

    public const string Scheduled = "schedule";

    /// <summary>The registry-side figures the run's row holds (retention's count is the collector's own).</summary>
    private static CollectionReport RecordedSoFar(CollectionRun run) => new()
    {
        TagsExpired = run.TagsExpired,
        TagHistoryPruned = run.TagHistoryPruned,
        ManifestsRemoved = run.ManifestsRemoved,
        BlobLinksRemoved = run.BlobLinksRemoved,
        BlobsRemoved = run.BlobsRemoved,
        BytesFreed = run.BytesFreed,
        UploadsRemoved = run.UploadsRemoved,
        OrphanFilesRemoved = run.OrphanFilesRemoved,
    };

    private static EventActor ActorOf(CollectionRun run) =>
        run.RequestedBy == Scheduled ? EventActor.System : new EventActor(run.RequestedBy, "user", null, null);

    /// <summary>
    /// Records the run's state. <paramref name="removed"/> counts every attempt of the run
    /// (null: leave the figures last saved).
    /// </summary>
    private Task<CollectionRun> SaveAsync(Guid runId, CollectionReport? removed, string? finished, string? error, bool publish, CancellationToken cancellationToken) =>
        collectorDb.WriteAsync(async db =>
        {
            var run = await db.Runs.FirstAsync(r => r.Id == runId, cancellationToken);
            if (removed is not null)
            {
                run.Phase = removed.Phase.ToString();
                run.TagsExpired = removed.TagsExpired;
                run.TagHistoryPruned = removed.TagHistoryPruned;
                run.ManifestsRemoved = removed.ManifestsRemoved;
                run.BlobLinksRemoved = removed.BlobLinksRemoved;
                run.BlobsRemoved = removed.BlobsRemoved;
                run.BytesFreed = removed.BytesFreed;
                run.UploadsRemoved = removed.UploadsRemoved;
                run.OrphanFilesRemoved = removed.OrphanFilesRemoved;
            }
            if (finished is not null)
            {
                run.Status = finished;
                run.FinishedAt = collectorDb.Now();
                run.Error = error;
            }
            if (publish)
                db.Publish(new GarbageCollected(run.Id, run.Namespace, run.Repository, run.DryRun, run.TagsExpired, run.TagHistoryPruned,
                    run.ManifestsRemoved, run.BlobLinksRemoved, run.BlobsRemoved, run.BytesFreed, run.UploadsRemoved, run.OrphanFilesRemoved,
                    (run.FinishedAt!.Value - run.StartedAt).TotalSeconds) { Actor = ActorOf(run), TagsPruned = run.TagsPruned });
            await db.SaveChangesAsync(cancellationToken);
            return run;
        }, cancellationToken);
}
