using Berth.Registry.Data;
using Microsoft.EntityFrameworkCore;

namespace Berth.Registry.Services;

/// <summary>
/// Tag lifetimes. Pointing a tag ends its live row (if it points elsewhere) and
/// starts a new one; deleting ends it. Rows are never rewritten, so history is
/// complete. Runs inside the caller's write transaction. Two writers moving the
/// same tag at once collide on the one-live-row index and the loser retries.
/// </summary>
public sealed class TagWriter
{
    /// <summary>
    /// Points <paramref name="tag"/> at the manifest. Returns whether the tag changed
    /// and, for a move, the manifest it pointed at before (null for a new tag).
    /// </summary>
    public async Task<(bool Changed, long? PreviousManifestId)> PointAsync(RegistryDbContext db, long repositoryId, string tag, long manifestId, DateTime now, CancellationToken cancellationToken)
    {
        var previous = await db.Tags.Where(t => t.RepositoryId == repositoryId && t.Name == tag && t.EndedAt == null)
            .Select(t => (long?)t.ManifestId).FirstOrDefaultAsync(cancellationToken);
        if (previous == manifestId) return (false, null);
        await db.Database.ExecuteSqlInterpolatedAsync($"""
            UPDATE "Tags" SET "EndedAt" = {now}
            WHERE "RepositoryId" = {repositoryId} AND "Name" = {tag} AND "EndedAt" IS NULL AND "ManifestId" <> {manifestId}
            """, cancellationToken);
        var alreadyThere = await db.Tags.AnyAsync(
            t => t.RepositoryId == repositoryId && t.Name == tag && t.EndedAt == null && t.ManifestId == manifestId, cancellationToken);
        if (alreadyThere) return (false, null);
        // A plain insert, not "insert unless a live row exists": under READ COMMITTED a
        // concurrent mover may have committed a new live row after our UPDATE looked,
        // and skipping would silently lose this move. The unique index turns that race
        // into a conflict, and the retry ends the winner's row and inserts ours.
        await db.Database.ExecuteSqlInterpolatedAsync($"""
            INSERT INTO "Tags" ("RepositoryId", "Name", "ManifestId", "StartedAt") VALUES ({repositoryId}, {tag}, {manifestId}, {now})
            """, cancellationToken);
        return (true, previous);
    }

    /// <summary>Ends the live row of a tag; returns how many rows ended (0 or 1).</summary>
    public Task<int> EndAsync(RegistryDbContext db, long repositoryId, string tag, DateTime now, CancellationToken cancellationToken) =>
        db.Tags.Where(t => t.RepositoryId == repositoryId && t.Name == tag && t.EndedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.EndedAt, now), cancellationToken);

    /// <summary>Ends every live tag on a manifest; returns their names.</summary>
    public async Task<List<string>> EndAllOnAsync(RegistryDbContext db, long manifestId, DateTime now, CancellationToken cancellationToken)
    {
        var live = db.Tags.Where(t => t.ManifestId == manifestId && t.EndedAt == null);
        var names = await live.Select(t => t.Name).ToListAsync(cancellationToken);
        await live.ExecuteUpdateAsync(s => s.SetProperty(t => t.EndedAt, now), cancellationToken);
        return names;
    }
}
