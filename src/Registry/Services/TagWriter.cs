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
    public async Task PointAsync(RegistryDbContext db, long repositoryId, string tag, long manifestId, DateTime now, CancellationToken cancellationToken)
    {
        await db.Database.ExecuteSqlInterpolatedAsync($"""
            UPDATE "Tags" SET "EndedAt" = {now}
            WHERE "RepositoryId" = {repositoryId} AND "Name" = {tag} AND "EndedAt" IS NULL AND "ManifestId" <> {manifestId}
            """, cancellationToken);
        await db.Database.ExecuteSqlInterpolatedAsync($"""
            INSERT INTO "Tags" ("RepositoryId", "Name", "ManifestId", "StartedAt")
            SELECT {repositoryId}, {tag}, {manifestId}, {now}
            WHERE NOT EXISTS (SELECT 1 FROM "Tags" WHERE "RepositoryId" = {repositoryId} AND "Name" = {tag} AND "EndedAt" IS NULL)
            """, cancellationToken);
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
