using Berth.Registry.Data;
using Microsoft.EntityFrameworkCore;

namespace Berth.Registry.Collection;

/// <summary>
/// A run's totals kept in the registry's database (<see cref="CollectionTallyRow"/>).
/// Every batch adds what it removed inside the transaction that removes it, so a run cut
/// off by a crash and resumed reports exactly what all its attempts removed: nothing a
/// committed batch did is lost, nothing is counted twice. A dry run removes nothing and
/// keeps no tally (<see cref="None"/>).
/// </summary>
internal sealed class CollectionTally
{
    /// <summary>A run that crashed after its end was recorded but before its tally was forgotten leaves a row; rows this old go.</summary>
    private static readonly TimeSpan LeftoverAge = TimeSpan.FromDays(30);

    private readonly Guid? _runId;

    private CollectionTally(Guid? runId) => _runId = runId;

    /// <summary>Counts nothing: dry runs and the tag-expiry watcher, which is not a run.</summary>
    public static CollectionTally None { get; } = new(null);

    /// <summary>
    /// The run's tally, created at its first attempt (from <paramref name="recordedSoFar"/>, if
    /// given); returns what earlier attempts removed.
    /// </summary>
    public static async Task<(CollectionTally Tally, CollectionReport SoFar)> OpenAsync(
        RegistryDb registryDb, Guid runId, CollectionReport? recordedSoFar, CancellationToken cancellationToken)
    {
        var row = await registryDb.WriteAsync(async db =>
        {
            var now = registryDb.Now();
            var leftoverCutoff = now - LeftoverAge;
            await db.CollectionTallies.Where(t => t.RunId != runId && t.StartedAt < leftoverCutoff).ExecuteDeleteAsync(cancellationToken);
            var existing = await db.CollectionTallies.AsNoTracking().FirstOrDefaultAsync(t => t.RunId == runId, cancellationToken);
            if (existing is not null) return existing;
            var seed = recordedSoFar ?? new CollectionReport();
            var created = new CollectionTallyRow
            {
                RunId = runId,
                StartedAt = now,
                TagsExpired = seed.TagsExpired,
                TagHistoryPruned = seed.TagHistoryPruned,
                ManifestsRemoved = seed.ManifestsRemoved,
                BlobLinksRemoved = seed.BlobLinksRemoved,
                BlobsRemoved = seed.BlobsRemoved,
                BytesFreed = seed.BytesFreed,
                UploadsRemoved = seed.UploadsRemoved,
                OrphanFilesRemoved = seed.OrphanFilesRemoved,
            };
            db.CollectionTallies.Add(created);
            await db.SaveChangesAsync(cancellationToken);
            return created;
        }, cancellationToken);
        return (new CollectionTally(runId), ReportOf(row));
    }

    /// <summary>What the run's attempts removed so far; null when it keeps no tally.</summary>
    public static async Task<CollectionReport?> ReadAsync(RegistryDb registryDb, Guid runId, CancellationToken cancellationToken)
    {
        await using var db = registryDb.Open();
        var row = await db.CollectionTallies.AsNoTracking().FirstOrDefaultAsync(t => t.RunId == runId, cancellationToken);
        return row is null ? null : ReportOf(row);
    }

    private static CollectionReport ReportOf(CollectionTallyRow row) => new()
    {
        TagsExpired = row.TagsExpired,
        TagHistoryPruned = row.TagHistoryPruned,
        ManifestsRemoved = row.ManifestsRemoved,
        BlobLinksRemoved = row.BlobLinksRemoved,
        BlobsRemoved = row.BlobsRemoved,
        BytesFreed = row.BytesFreed,
        UploadsRemoved = row.UploadsRemoved,
        OrphanFilesRemoved = row.OrphanFilesRemoved,
    };

    /// <summary>Adds a batch's removals; call inside the batch's transaction. A batch that removed nothing writes nothing.</summary>
    public Task AddAsync(RegistryDbContext db, CollectionReport removed, CancellationToken cancellationToken)
    {
        if (_runId is not { } runId || removed.IsEmpty) return Task.CompletedTask;
        return db.CollectionTallies.Where(t => t.RunId == runId).ExecuteUpdateAsync(u => u
            .SetProperty(t => t.TagsExpired, t => t.TagsExpired + removed.TagsExpired)
            .SetProperty(t => t.TagHistoryPruned, t => t.TagHistoryPruned + removed.TagHistoryPruned)
            .SetProperty(t => t.ManifestsRemoved, t => t.ManifestsRemoved + removed.ManifestsRemoved)
            .SetProperty(t => t.BlobLinksRemoved, t => t.BlobLinksRemoved + removed.BlobLinksRemoved)
            .SetProperty(t => t.BlobsRemoved, t => t.BlobsRemoved + removed.BlobsRemoved)
            .SetProperty(t => t.BytesFreed, t => t.BytesFreed + removed.BytesFreed)
            .SetProperty(t => t.UploadsRemoved, t => t.UploadsRemoved + removed.UploadsRemoved)
            .SetProperty(t => t.OrphanFilesRemoved, t => t.OrphanFilesRemoved + removed.OrphanFilesRemoved), cancellationToken);
    }

    /// <summary>Drops a finished run's tally, once its totals are recorded where the run's history is kept.</summary>
    public static Task ForgetAsync(RegistryDb registryDb, Guid runId, CancellationToken cancellationToken) =>
        registryDb.WriteAsync(db => db.CollectionTallies.Where(t => t.RunId == runId).ExecuteDeleteAsync(cancellationToken), cancellationToken);
}
