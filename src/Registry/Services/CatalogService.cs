using Berth.Registry.Data;
using Berth.Oci;
using Microsoft.EntityFrameworkCore;

namespace Berth.Registry.Services;

public sealed record Page<T>(IReadOnlyList<T> Items, bool HasMore);

public sealed record TagHistoryEntry(string Name, string ManifestDigest, string MediaType, DateTime StartedAt, DateTime? EndedAt, DateTime? ExpiresAt);

public sealed record RepositorySummary(string Name, DateTime CreatedAt, int TagCount, int ManifestCount, long SizeBytes, DateTime? LastModified);

/// <summary>Listings: repositories and tags in lexical (ordinal) order, a page at a time, keyed by the last name seen.</summary>
public sealed class CatalogService(RegistryDb registryDb, RepositoryDirectory repositories, RegistryCache cache)
{
    /// <summary>
    /// A page of repository names after <paramref name="last"/>. With a filter
    /// (what the caller may see) rows are read in batches until the page is full,
    /// so a caller who sees few repositories still gets full pages.
    /// </summary>
    public async Task<Page<string>> ListRepositoriesAsync(string? last, int limit, Func<string, bool>? visible, CancellationToken cancellationToken)
    {
        await using var db = registryDb.Open();
        var batch = visible is null ? limit + 1 : Math.Max(limit + 1, 500);
        var found = new List<string>(Math.Min(limit + 1, 1024));
        var after = last;
        while (true)
        {
            var query = db.Repositories.AsNoTracking().Select(r => r.Name);
            if (!string.IsNullOrEmpty(after)) query = query.Where(name => string.Compare(name, after) > 0);
            var rows = await query.OrderBy(name => name).Take(batch).ToListAsync(cancellationToken);
            foreach (var name in rows)
            {
                if (visible is not null && !visible(name)) continue;
                found.Add(name);
                if (found.Count > limit) return ToPage(found, limit);
            }
            if (rows.Count < batch) return ToPage(found, limit);
            after = rows[^1];
        }
    }

    /// <summary>
    /// A page of live tags. The whole sorted list is cached per repository, so a
    /// page is a binary search and a slice; a tag change drops the snapshot.
    /// </summary>
    public async Task<Page<string>> ListTagsAsync(string repository, string? last, int limit, CancellationToken cancellationToken)
    {
        var repositoryId = await RequireAsync(repository, cancellationToken);
        var tags = cache.GetTagList(repositoryId) ?? await LoadTagListAsync(repositoryId, cancellationToken);
        var start = 0;
        if (!string.IsNullOrEmpty(last))
        {
            var found = Array.BinarySearch(tags, last, StringComparer.Ordinal);
            start = found >= 0 ? found + 1 : ~found;
        }
        var count = Math.Min(limit, tags.Length - start);
        return new Page<string>(new ArraySegment<string>(tags, start, Math.Max(0, count)), start + count < tags.Length);
    }

    private async Task<string[]> LoadTagListAsync(long repositoryId, CancellationToken cancellationToken)
    {
        var stamp = cache.TagListStamp(repositoryId);
        var (shared, read) = await cache.ReadSharedTagListAsync(repositoryId, stamp);
        if (shared is not null) return shared;
        await using var db = registryDb.Open();
        var now = registryDb.Now();
        var live = await db.Tags.AsNoTracking().Where(t => t.RepositoryId == repositoryId && t.EndedAt == null && (t.ExpiresAt == null || t.ExpiresAt > now))
            .Select(t => new { t.Name, Expiring = t.ExpiresAt != null }).ToListAsync(cancellationToken);
        var tags = live.Select(t => t.Name).ToArray();
        // Ordinal order whatever the database's collation: the spec's lexical order.
        Array.Sort(tags, StringComparer.Ordinal);
        // A list with a tag that will expire is not cached: no copy may outlive the expiration.
        if (!live.Any(t => t.Expiring)) cache.SetTagList(repositoryId, tags, stamp, read);
        return tags;
    }

    /// <summary>Tag rows in name order; live rows only unless <paramref name="includeHistory"/>, newest first within a name.</summary>
    public async Task<Page<TagHistoryEntry>> ListTagHistoryAsync(string repository, bool includeHistory, string? afterName, int limit, CancellationToken cancellationToken)
    {
        var repositoryId = await RequireAsync(repository, cancellationToken);
        await using var db = registryDb.Open();
        var names = db.Tags.AsNoTracking().Where(t => t.RepositoryId == repositoryId && (includeHistory || t.EndedAt == null)).Select(t => t.Name).Distinct();
        if (!string.IsNullOrEmpty(afterName)) names = names.Where(n => string.Compare(n, afterName) > 0);
        var pageNames = await names.OrderBy(n => n).Take(limit + 1).ToListAsync(cancellationToken);
        var page = ToPage(pageNames, limit);
        var wanted = page.Items.ToList();
        var rows = await (from t in db.Tags.AsNoTracking()
                          join m in db.Manifests.AsNoTracking() on t.ManifestId equals m.Id
                          where t.RepositoryId == repositoryId && wanted.Contains(t.Name) && (includeHistory || t.EndedAt == null)
                          select new { t.Id, t.Name, m.Digest, m.MediaType, t.StartedAt, t.EndedAt, t.ExpiresAt }).ToListAsync(cancellationToken);
        var entries = rows.OrderBy(r => r.Name, StringComparer.Ordinal).ThenByDescending(r => r.Id)
            .Select(r => new TagHistoryEntry(r.Name, r.Digest, r.MediaType, r.StartedAt, r.EndedAt, r.ExpiresAt)).ToList();
        return new Page<TagHistoryEntry>(entries, page.HasMore);
    }

    public async Task<RepositorySummary> DescribeAsync(string repository, CancellationToken cancellationToken)
    {
        var repositoryId = await RequireAsync(repository, cancellationToken);
        await using var db = registryDb.Open();
        var row = await db.Repositories.AsNoTracking().FirstAsync(r => r.Id == repositoryId, cancellationToken);
        var tagCount = await db.Tags.CountAsync(t => t.RepositoryId == repositoryId && t.EndedAt == null, cancellationToken);
        var manifestCount = await db.Manifests.CountAsync(m => m.RepositoryId == repositoryId && m.DeletedAt == null, cancellationToken);
        var size = await (from l in db.RepositoryBlobs join b in db.Blobs on l.Digest equals b.Digest
                          where l.RepositoryId == repositoryId select b.Size).SumAsync(cancellationToken);
        var lastTag = await db.Tags.Where(t => t.RepositoryId == repositoryId).MaxAsync(t => (DateTime?)t.StartedAt, cancellationToken);
        return new RepositorySummary(row.Name, row.CreatedAt, tagCount, manifestCount, size, lastTag);
    }

    public async Task<List<string>> ListTagsOnAsync(long repositoryId, long manifestId, CancellationToken cancellationToken)
    {
        await using var db = registryDb.Open();
        return await db.Tags.AsNoTracking().Where(t => t.RepositoryId == repositoryId && t.ManifestId == manifestId && t.EndedAt == null)
            .OrderBy(t => t.Name).Select(t => t.Name).ToListAsync(cancellationToken);
    }

    private async Task<long> RequireAsync(string repository, CancellationToken cancellationToken) =>
        await repositories.FindAsync(repository, cancellationToken)
            ?? throw ErrorCode.NameUnknown.With($"repository '{repository}' is not known", new { name = repository });

    private static Page<string> ToPage(List<string> rows, int limit) =>
        rows.Count > limit ? new Page<string>(rows.GetRange(0, limit), true) : new Page<string>(rows, false);
}
