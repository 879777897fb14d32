using Berth.Contracts;
using Berth.Contracts.Registry;
using Berth.Data.Outbox;
using Berth.Oci;
using Berth.Registry.Data;
using Berth.Registry.Services;
using Berth.Registry.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.Registry.Collection;

/// <summary>
/// Online garbage collection, the sweep half: plans
/// (<see cref="CollectionPlanner"/>), then removes the plan in small batches,
/// each one transaction that takes the exclusive <see cref="ContentLocks"/> of
/// what it removes and re-checks the <see cref="ReachabilityRules"/> on what the
/// database says now. Pushes and pulls go on meanwhile. Every batch is
/// idempotent, so a run that crashed is finished by running again; blob bytes
/// go to the store's trash inside the deleting transaction and are purged only
/// after it commits, and a run first settles whatever a crash left in the trash.
/// </summary>
public sealed class GarbageCollector(RegistryDb registryDb, IBlobStore store, RegistryCache cache, ForegroundActivity activity, UploadSessionRecorder uploadSessions, IOptions<RegistryOptions> options, ILogger<GarbageCollector> logger)
{
    /// <summary>Small enough that a batch holds the write path (SQLite's gate, the blobs' locks) only for milliseconds.</summary>
    private const int BatchSize = 100;

    public TimeSpan GracePeriod => options.Value.GracePeriod;

    /// <summary>
    /// Runs one collection, or resumes one that was cut off (the same
    /// <see cref="CollectionRequest.RunId"/>); <paramref name="progress"/> hears the report after
    /// every batch. The report counts what every attempt of the run removed (<see cref="CollectionTally"/>).
    /// </summary>
    public async Task<CollectionReport> RunAsync(CollectionRequest request, Func<CollectionReport, Task> progress, CancellationToken cancellationToken)
    {
        var (tally, report) = request.DryRun
            ? (CollectionTally.None, new CollectionReport())
            : await CollectionTally.OpenAsync(registryDb, request.RunId, request.RecordedSoFar, cancellationToken);
        var pacer = new Pacer(activity, request.DutyCycle, request.BusyDutyCycle);
        var now = registryDb.Now();
        var graceCutoff = now - GracePeriod;
        if (!request.DryRun)
        {
            report.Phase = CollectionPhase.RecoverTrash;
            await RecoverTrashAsync(report, cancellationToken);
        }
        CollectionPlan plan;
        await using (var db = registryDb.Open())
            plan = await CollectionPlanner.PlanAsync(db, request, now, GracePeriod, pacer, cancellationToken);
        logger.LogInformation("Collection {RunId} of {Scope}{DryRun}: {Tags} tags expire, {History} history rows, {Manifests} manifests, {Links} links, {Blobs} blobs",
            request.RunId, request.Scope, request.DryRun ? " (dry run)" : "", plan.ExpiredTags.Count, plan.PrunableTagRows.Count,
            plan.ManifestLayers.Sum(l => l.Count), plan.Links.Count, plan.Blobs.Count);

        if (request.DryRun)
        {
            report.TagsExpired = plan.ExpiredTags.Count;
            report.TagHistoryPruned = plan.PrunableTagRows.Count;
            report.ManifestsRemoved = plan.ManifestLayers.Sum(l => l.Count);
            report.BlobLinksRemoved = plan.Links.Count;
            report.BlobsRemoved = plan.Blobs.Count;
            report.BytesFreed = plan.Blobs.Sum(b => b.Size);
        }
        else
        {
            await Phase(report, CollectionPhase.ExpireTags, progress);
            foreach (var batch in plan.ExpiredTags.Chunk(BatchSize))
                await Step(pacer, report, progress, async () => report.TagsExpired += await ExpireTagsAsync(batch, now, tally, cancellationToken), cancellationToken);
            await Phase(report, CollectionPhase.PruneTagHistory, progress);
            foreach (var batch in plan.PrunableTagRows.Chunk(BatchSize))
                await Step(pacer, report, progress, () => PruneTagHistoryAsync(batch, tally, report, cancellationToken), cancellationToken);
            await Phase(report, CollectionPhase.CollectManifests, progress);
            foreach (var layer in plan.ManifestLayers)
                foreach (var batch in layer.Chunk(BatchSize))
                    await Step(pacer, report, progress, () => CollectManifestsAsync(batch, graceCutoff, tally, report, cancellationToken), cancellationToken);
            await Phase(report, CollectionPhase.CollectBlobLinks, progress);
            foreach (var batch in plan.Links.Chunk(BatchSize))
                await Step(pacer, report, progress, () => CollectLinksAsync(batch, graceCutoff, tally, report, cancellationToken), cancellationToken);
            await Phase(report, CollectionPhase.CollectBlobs, progress);
            foreach (var batch in plan.Blobs.Chunk(BatchSize))
                await Step(pacer, report, progress, () => CollectBlobsAsync(batch, graceCutoff, tally, report, cancellationToken), cancellationToken);
        }
        await Phase(report, CollectionPhase.RemoveStaleUploads, progress);
        await RemoveStaleUploadsAsync(request, now, tally, report, cancellationToken);
        if (request.Scope.IsAll)
        {
            await Phase(report, CollectionPhase.RemoveOrphanFiles, progress);
            await RemoveOrphanFilesAsync(request.DryRun, graceCutoff, tally, report, progress, cancellationToken);
        }
        await Phase(report, CollectionPhase.Done, progress);
        return report;
    }

    /// <summary>What the attempts of a run removed so far; null when the registry keeps no tally for it (a dry run, a finished run).</summary>
    public Task<CollectionReport?> RemovedSoFarAsync(Guid runId, CancellationToken cancellationToken) =>
        CollectionTally.ReadAsync(registryDb, runId, cancellationToken);

    /// <summary>Drops a finished run's tally once its totals are recorded in the run's history.</summary>
    public Task ForgetTallyAsync(Guid runId, CancellationToken cancellationToken) => CollectionTally.ForgetAsync(registryDb, runId, cancellationToken);

    private static Task Phase(CollectionReport report, CollectionPhase phase, Func<CollectionReport, Task> progress)
    {
        report.Phase = phase;
        return progress(report);
    }

    private static async Task Step(Pacer pacer, CollectionReport report, Func<CollectionReport, Task> progress, Func<Task> batch, CancellationToken cancellationToken)
    {
        await batch();
        await progress(report);
        await pacer.RestAsync(cancellationToken);
    }

    /// <summary>
    /// Ends the live tags whose expiration has come, a batch at a time, between
    /// collections too (<see cref="TagExpiryWatcher"/>), so an expired tag stops
    /// resolving within seconds; returns how many ended.
    /// </summary>
    public async Task<int> ExpireDueTagsAsync(CancellationToken cancellationToken)
    {
        var total = 0;
        while (true)
        {
            var now = registryDb.Now();
            List<TagCandidate> due;
            await using (var db = registryDb.Open())
                due = await (from t in db.Tags.AsNoTracking()
                             join r in db.Repositories.AsNoTracking() on t.RepositoryId equals r.Id
                             where t.EndedAt == null && t.ExpiresAt != null && t.ExpiresAt <= now
                             orderby t.Id
                             select new TagCandidate(t.Id, t.RepositoryId, r.Name, t.Name, t.ManifestId, t.ExpiresAt!.Value))
                    .Take(BatchSize).ToListAsync(cancellationToken);
            if (due.Count == 0) return total;
            var ended = await ExpireTagsAsync([.. due], now, CollectionTally.None, cancellationToken);
            total += ended;
            if (ended == 0) return total;
        }
    }

    /// <summary>Ends live tags whose expiration came, each with a TagExpired event, at the time they expired.</summary>
    private async Task<int> ExpireTagsAsync(TagCandidate[] batch, DateTime now, CollectionTally tally, CancellationToken cancellationToken)
    {
        var expired = await registryDb.WriteAsync(async db =>
        {
            var done = new List<TagCandidate>();
            foreach (var tag in batch)
            {
                // Re-checked per row: a move, a delete or a new expiration since planning wins.
                var ended = await db.Tags.Where(t => t.Id == tag.Id && t.EndedAt == null && t.ExpiresAt != null && t.ExpiresAt <= now)
                    .ExecuteUpdateAsync(u => u.SetProperty(t => t.EndedAt, t => t.ExpiresAt), cancellationToken);
                if (ended == 0) continue;
                var digest = await db.Manifests.Where(m => m.Id == tag.ManifestId).Select(m => m.Digest).FirstAsync(cancellationToken);
                db.Publish(new TagExpired(tag.Repository, tag.Name, digest, new DateTimeOffset(tag.ExpiresAt, TimeSpan.Zero)) { Actor = EventActor.System });
                done.Add(tag);
            }
            await db.SaveChangesAsync(cancellationToken);
            await tally.AddAsync(db, new CollectionReport { TagsExpired = done.Count }, cancellationToken);
            return done;
        }, cancellationToken);
        foreach (var tag in expired)
        {
            cache.RemoveManifest(tag.RepositoryId, tag.Name);
            cache.RemoveTagList(tag.RepositoryId);
        }
        return expired.Count;
    }

    /// <summary>Ended rows do not change, so the plan's judgement that they left the window still holds.</summary>
    private async Task PruneTagHistoryAsync(long[] batch, CollectionTally tally, CollectionReport report, CancellationToken cancellationToken)
    {
        report.TagHistoryPruned += await registryDb.WriteAsync(async db =>
        {
            var pruned = await db.Tags.Where(t => batch.Contains(t.Id) && t.EndedAt != null).ExecuteDeleteAsync(cancellationToken);
            await tally.AddAsync(db, new CollectionReport { TagHistoryPruned = pruned }, cancellationToken);
            return pruned;
        }, cancellationToken);
    }

    private async Task CollectManifestsAsync(ManifestCandidate[] batch, DateTime graceCutoff, CollectionTally tally, CollectionReport report, CancellationToken cancellationToken)
    {
        var removed = await registryDb.WriteAsync(async db =>
        {
            await ContentLocks.ExclusiveAsync(db, batch.Select(m => ContentLocks.ManifestKey(m.RepositoryId, m.Digest)), cancellationToken);
            var ids = batch.Select(m => m.Id).ToArray();
            var facts = await db.Manifests.Where(m => ids.Contains(m.Id)).Select(m => new
            {
                m.Id,
                m.RepositoryId,
                m.Digest,
                Facts = new ManifestFacts(
                    db.Tags.Any(t => t.ManifestId == m.Id),
                    db.ManifestChildren.Any(c => c.ChildId == m.Id),
                    m.SubjectDigest != null && db.Manifests.Any(s => s.RepositoryId == m.RepositoryId && s.Digest == m.SubjectDigest),
                    m.TouchedAt ?? m.PushedAt),
            }).ToListAsync(cancellationToken);
            var doomed = facts.Where(f => ReachabilityRules.ManifestCollectable(f.Facts, graceCutoff))
                .Select(f => new ManifestCandidate(f.Id, f.RepositoryId, f.Digest)).ToList();
            var doomedIds = doomed.Select(m => m.Id).ToArray();
            if (doomedIds.Length == 0) return doomed;
            await db.ManifestBlobs.Where(r => doomedIds.Contains(r.ManifestId)).ExecuteDeleteAsync(cancellationToken);
            await db.ManifestChildren.Where(c => doomedIds.Contains(c.ParentId)).ExecuteDeleteAsync(cancellationToken);
            await db.Manifests.Where(m => doomedIds.Contains(m.Id)).ExecuteDeleteAsync(cancellationToken);
            await tally.AddAsync(db, new CollectionReport { ManifestsRemoved = doomed.Count }, cancellationToken);
            return doomed;
        }, cancellationToken);
        foreach (var manifest in removed) cache.RemoveManifest(manifest.RepositoryId, manifest.Digest);
        report.ManifestsRemoved += removed.Count;
    }

    private async Task CollectLinksAsync(LinkCandidate[] batch, DateTime graceCutoff, CollectionTally tally, CollectionReport report, CancellationToken cancellationToken)
    {
        var removed = await registryDb.WriteAsync(async db =>
        {
            await ContentLocks.ExclusiveAsync(db, batch.Select(l => ContentLocks.BlobKey(l.Digest)), cancellationToken);
            var done = new List<LinkCandidate>();
            // A statement per repository in the batch (usually one), not per link.
            foreach (var group in batch.GroupBy(l => l.RepositoryId))
            {
                var repositoryId = group.Key;
                var digests = group.Select(l => l.Digest).ToArray();
                var facts = await db.RepositoryBlobs.Where(l => l.RepositoryId == repositoryId && digests.Contains(l.Digest))
                    .Select(l => new
                    {
                        l.Digest,
                        Facts = new LinkFacts(
                            db.ManifestBlobs.Any(r => r.Digest == l.Digest && db.Manifests.Any(m => m.Id == r.ManifestId && m.RepositoryId == l.RepositoryId)),
                            l.LinkedAt),
                    })
                    .ToListAsync(cancellationToken);
                var doomed = facts.Where(f => ReachabilityRules.LinkCollectable(f.Facts, graceCutoff)).Select(f => f.Digest).ToArray();
                if (doomed.Length == 0) continue;
                await db.RepositoryBlobs.Where(l => l.RepositoryId == repositoryId && doomed.Contains(l.Digest)).ExecuteDeleteAsync(cancellationToken);
                done.AddRange(doomed.Select(d => new LinkCandidate(repositoryId, d)));
            }
            await tally.AddAsync(db, new CollectionReport { BlobLinksRemoved = done.Count }, cancellationToken);
            return done;
        }, cancellationToken);
        foreach (var link in removed) cache.RemoveBlob(link.RepositoryId, link.Digest);
        report.BlobLinksRemoved += removed.Count;
    }

    /// <summary>
    /// Trashes the bytes and deletes the rows in one transaction under the blobs'
    /// locks, then purges the trash. An attempt that is retried first puts back what
    /// the failed attempt trashed, so the bytes are at their address whenever the
    /// row exists and nobody holds the lock.
    /// </summary>
    private async Task CollectBlobsAsync(BlobCandidate[] batch, DateTime graceCutoff, CollectionTally tally, CollectionReport report, CancellationToken cancellationToken)
    {
        var trashed = new HashSet<string>();
        List<BlobCandidate> removed;
        try
        {
            removed = await registryDb.WriteAsync(async db =>
            {
                await ContentLocks.ExclusiveAsync(db, batch.Select(b => ContentLocks.BlobKey(b.Digest)), cancellationToken);
                await RestoreAsync(trashed);
                var digests = batch.Select(b => b.Digest).ToArray();
                var facts = await db.Blobs.Where(b => digests.Contains(b.Digest)).Select(b => new
                {
                    b.Digest,
                    b.Size,
                    Facts = new BlobFacts(db.RepositoryBlobs.Any(l => l.Digest == b.Digest), db.ManifestBlobs.Any(r => r.Digest == b.Digest), b.CreatedAt),
                }).ToListAsync(cancellationToken);
                var doomed = facts.Where(f => ReachabilityRules.BlobCollectable(f.Facts, graceCutoff)).Select(f => new BlobCandidate(f.Digest, f.Size)).ToList();
                foreach (var blob in doomed)
                {
                    trashed.Add(blob.Digest);
                    await store.TrashAsync(Digest.Parse(blob.Digest), cancellationToken);
                }
                var doomedDigests = doomed.Select(b => b.Digest).ToArray();
                await db.Blobs.Where(b => doomedDigests.Contains(b.Digest)).ExecuteDeleteAsync(cancellationToken);
                await tally.AddAsync(db, BlobsRemoved(doomed), cancellationToken);
                return doomed;
            }, cancellationToken);
        }
        catch
        {
            await RestoreAsync(trashed);
            throw;
        }
        foreach (var blob in removed) await store.PurgeAsync(Digest.Parse(blob.Digest), CancellationToken.None);
        report.Add(BlobsRemoved(removed));
    }

    private static CollectionReport BlobsRemoved(List<BlobCandidate> blobs) => new() { BlobsRemoved = blobs.Count, BytesFreed = blobs.Sum(b => b.Size) };

    private async Task RestoreAsync(HashSet<string> trashed)
    {
        foreach (var digest in trashed) await store.RestoreAsync(Digest.Parse(digest), CancellationToken.None);
        trashed.Clear();
    }

    /// <summary>
    /// A crash between trashing and purging leaves blobs in the trash: those whose
    /// row survived (the transaction never committed) go back to their address, the
    /// rest are deleted.
    /// </summary>
    private async Task RecoverTrashAsync(CollectionReport report, CancellationToken cancellationToken)
    {
        var trashed = new List<Digest>();
        await foreach (var digest in store.ListTrashAsync(cancellationToken)) trashed.Add(digest);
        foreach (var batch in trashed.Chunk(BatchSize))
        {
            await registryDb.WriteAsync(async db =>
            {
                await ContentLocks.ExclusiveAsync(db, batch.Select(d => ContentLocks.BlobKey(d.ToString())), cancellationToken);
                var keys = batch.Select(d => d.ToString()).ToArray();
                var present = (await db.Blobs.Where(b => keys.Contains(b.Digest)).Select(b => b.Digest).ToListAsync(cancellationToken)).ToHashSet();
                foreach (var digest in batch)
                {
                    if (present.Contains(digest.ToString())) await store.RestoreAsync(digest, cancellationToken);
                    else await store.PurgeAsync(digest, cancellationToken);
                }
            }, cancellationToken);
            report.TrashRecovered += batch.Length;
        }
        if (trashed.Count > 0) logger.LogWarning("Settled {Count} blobs an interrupted collection left in the trash", trashed.Count);
    }

    /// <summary>Upload sessions (and staged files without a session) that nobody wrote to for the configured age.</summary>
    private async Task RemoveStaleUploadsAsync(CollectionRequest request, DateTime now, CollectionTally tally, CollectionReport report, CancellationToken cancellationToken)
    {
        var cutoff = now - request.StaleUploadAge;
        // This instance's newest sessions have no row yet; without one, a session looks like a whole-blob upload's file.
        await uploadSessions.FlushAsync(cancellationToken);
        var staged = new Dictionary<Guid, DateTime>();
        await foreach (var upload in store.ListUploadsAsync(cancellationToken)) staged[upload.Key] = upload.ModifiedAt;
        await using var db = registryDb.Open();
        var repositories = CollectionPlanner.RepositoriesIn(db, request.Scope);
        var sessions = await db.UploadSessions.AsNoTracking().Where(u => repositories.Any(r => r.Id == u.RepositoryId))
            .Select(u => new { u.Id, u.StartedAt }).ToListAsync(cancellationToken);
        var known = sessions.Select(s => s.Id).ToHashSet();
        var stale = sessions.Where(s => s.StartedAt < cutoff && (!staged.TryGetValue(s.Id, out var written) || written < cutoff)).Select(s => s.Id).ToList();
        // Whole-blob uploads have no session: their staged file is theirs alone, and old means abandoned.
        var sessionless = request.Scope.IsAll ? staged.Where(f => !known.Contains(f.Key) && f.Value < cutoff).Select(f => f.Key).ToList() : [];
        if (request.DryRun)
        {
            report.UploadsRemoved += stale.Count + sessionless.Count;
            return;
        }
        foreach (var batch in stale.Chunk(BatchSize))
        {
            // Bytes first: a session ends with its staged bytes (an instance that started one asks
            // only the store whether it goes on), and a row left by a crash here is stale next time.
            foreach (var id in batch) await store.DeleteUploadAsync(id, cancellationToken);
            var removed = await registryDb.WriteAsync(async write =>
            {
                var rows = new CollectionReport { UploadsRemoved = await write.UploadSessions.Where(u => batch.Contains(u.Id)).ExecuteDeleteAsync(cancellationToken) };
                await tally.AddAsync(write, rows, cancellationToken);
                return rows;
            }, cancellationToken);
            report.Add(removed);
        }
        if (sessionless.Count == 0) return;
        foreach (var id in sessionless) await store.DeleteUploadAsync(id, cancellationToken);
        // Files alone, no transaction to count in: a crash before this line loses their count, never more.
        var files = new CollectionReport { UploadsRemoved = sessionless.Count };
        await registryDb.WriteAsync(write => tally.AddAsync(write, files, cancellationToken), cancellationToken);
        report.Add(files);
    }

    /// <summary>Blob files with no row, older than the grace period: left by a crash between storing bytes and recording them.</summary>
    private async Task RemoveOrphanFilesAsync(bool dryRun, DateTime graceCutoff, CollectionTally tally, CollectionReport report, Func<CollectionReport, Task> progress, CancellationToken cancellationToken)
    {
        var old = new List<StoredItem<Digest>>();
        await foreach (var file in store.ListAsync(cancellationToken))
            if (file.ModifiedAt < graceCutoff) old.Add(file);
        foreach (var batch in old.Chunk(BatchSize))
        {
            var orphans = await registryDb.WriteAsync(async db =>
            {
                var keys = batch.Select(f => f.Key.ToString()).ToArray();
                if (!dryRun) await ContentLocks.ExclusiveAsync(db, keys.Select(ContentLocks.BlobKey), cancellationToken);
                var recorded = (await db.Blobs.Where(b => keys.Contains(b.Digest)).Select(b => b.Digest).ToListAsync(cancellationToken)).ToHashSet();
                var found = batch.Where(f => !recorded.Contains(f.Key.ToString())).ToList();
                if (!dryRun)
                    foreach (var orphan in found) await store.TrashAsync(orphan.Key, cancellationToken);
                await tally.AddAsync(db, OrphansRemoved(found), cancellationToken);
                return found;
            }, cancellationToken);
            if (!dryRun)
                foreach (var orphan in orphans) await store.PurgeAsync(orphan.Key, CancellationToken.None);
            report.Add(OrphansRemoved(orphans));
            await progress(report);
        }
    }

    private static CollectionReport OrphansRemoved(List<StoredItem<Digest>> orphans) => new() { OrphanFilesRemoved = orphans.Count, BytesFreed = orphans.Sum(o => o.Length) };
}
