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
/// Runs collections one at a time and keeps their history: a row per run, updated
/// as it goes, so that a run cut off by a crash is found "running" at the next
/// start and resumed (every stage of a collection is idempotent, so resuming is
/// running it again and adding up). A finished run publishes GarbageCollected in
/// the transaction that records its end.
/// </summary>
public sealed class CollectionRunner(CollectorDb collectorDb, GarbageCollector collector, RetentionPass retention, NamespaceUsage usage, CollectorMetrics metrics,
    ITimeMachineWindows windows, IOptions<CollectorOptions> options, ILogger<CollectionRunner> logger)
{
    private static readonly TimeSpan SaveEvery = TimeSpan.FromSeconds(1);
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);

    /// <summary>
    /// Records a new run and starts it in the background; null when another run is in
    /// progress (collections never overlap: the second would only re-check the first's work).
    /// </summary>
    public async Task<CollectionRun?> TryStartAsync(CollectionScope scope, bool dryRun, string requestedBy, CancellationToken stopping)
    {
        if (!await _oneAtATime.WaitAsync(0, CancellationToken.None)) return null;
        try
        {
            var run = await RecordAsync(scope, dryRun, requestedBy);
            _ = Task.Run(async () =>
            {
                try
                {
                    await ExecuteAsync(run.Id, stopping);
                }
                finally
                {
                    _oneAtATime.Release();
                }
            }, CancellationToken.None);
            return run;
        }
        catch
        {
            _oneAtATime.Release();
            throw;
        }
    }

    /// <summary>Runs a new collection to its end, waiting for one in progress to finish first.</summary>
    public async Task<CollectionRun> RunAsync(CollectionScope scope, bool dryRun, string requestedBy, CancellationToken stopping)
    {
        await _oneAtATime.WaitAsync(stopping);
        try
        {
            var run = await RecordAsync(scope, dryRun, requestedBy);
            return await ExecuteAsync(run.Id, stopping);
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    /// <summary>Finishes the runs a crash cut off, oldest first.</summary>
    public async Task ResumeInterruptedAsync(CancellationToken stopping)
    {
        await using var db = collectorDb.Open();
        var interrupted = await db.Runs.AsNoTracking().Where(r => r.Status == CollectionRun.Running).OrderBy(r => r.StartedAt)
            .Select(r => r.Id).ToListAsync(stopping);
        foreach (var id in interrupted)
        {
            await _oneAtATime.WaitAsync(stopping);
            try
            {
                await collectorDb.WriteAsync(write => write.Runs.Where(r => r.Id == id)
                    .ExecuteUpdateAsync(u => u.SetProperty(r => r.Resumes, r => r.Resumes + 1), stopping), stopping);
                logger.LogWarning("Resuming collection {RunId}, cut off before it finished", id);
                await ExecuteAsync(id, stopping);
            }
            finally
            {
                _oneAtATime.Release();
            }
        }
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
        // What earlier attempts of this run removed; a resumed run adds to it.
        var before = Snapshot(run);
        var started = DateTime.UtcNow;
        var lastSave = DateTime.MinValue;
        var request = new CollectionRequest(run.Id, new CollectionScope(run.Namespace, run.Repository), run.DryRun, windows.WindowOf, options.Value.StaleUploadAge)
        {
            DutyCycle = options.Value.DutyCycle,
            BusyDutyCycle = options.Value.BusyDutyCycle,
        };
        try
        {
            // Retention first: the tags it ends are then judged by the time-machine window like any deleted tag.
            var pruned = await retention.ApplyAsync(request.Scope, run.DryRun, stopping);
            await collectorDb.WriteAsync(db => db.Runs.Where(r => r.Id == runId)
                .ExecuteUpdateAsync(u => u.SetProperty(r => r.TagsPruned, r => r.TagsPruned + pruned), stopping), stopping);
            var report = await collector.RunAsync(request, async progress =>
            {
                if (DateTime.UtcNow - lastSave < SaveEvery) return;
                lastSave = DateTime.UtcNow;
                await SaveAsync(runId, before, progress, finished: null, error: null, publish: false, CancellationToken.None);
            }, stopping);
            metrics.Completed(report, DateTime.UtcNow - started, run.DryRun);
            // Space was freed: quotas see the new figures at once rather than after their refresh.
            if (!run.DryRun) usage.Forget();
            return await SaveAsync(runId, before, report, CollectionRun.Succeeded, error: null, publish: true, CancellationToken.None);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Shutting down: the row stays "running" and the next start resumes it.
            throw;
        }
        catch (Exception e)
        {
            logger.LogError(e, "Collection {RunId} failed", runId);
            return await SaveAsync(runId, before, new CollectionReport(), CollectionRun.Failed, e.Message, publish: false, CancellationToken.None);
        }
    }

    public const string Scheduled = "schedule";

    private static EventActor ActorOf(CollectionRun run) =>
        run.RequestedBy == Scheduled ? EventActor.System : new EventActor(run.RequestedBy, "user", null, null);

    private static CollectionReport Snapshot(CollectionRun run) => new()
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

    private Task<CollectionRun> SaveAsync(Guid runId, CollectionReport before, CollectionReport progress, string? finished, string? error, bool publish, CancellationToken cancellationToken) =>
        collectorDb.WriteAsync(async db =>
        {
            var run = await db.Runs.FirstAsync(r => r.Id == runId, cancellationToken);
            run.Phase = progress.Phase.ToString();
            run.TagsExpired = before.TagsExpired + progress.TagsExpired;
            run.TagHistoryPruned = before.TagHistoryPruned + progress.TagHistoryPruned;
            run.ManifestsRemoved = before.ManifestsRemoved + progress.ManifestsRemoved;
            run.BlobLinksRemoved = before.BlobLinksRemoved + progress.BlobLinksRemoved;
            run.BlobsRemoved = before.BlobsRemoved + progress.BlobsRemoved;
            run.BytesFreed = before.BytesFreed + progress.BytesFreed;
            run.UploadsRemoved = before.UploadsRemoved + progress.UploadsRemoved;
            run.OrphanFilesRemoved = before.OrphanFilesRemoved + progress.OrphanFilesRemoved;
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
