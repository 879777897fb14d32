using Berth.Contracts.Registry;
using Berth.Data.Outbox;
using Berth.Oci;
using Berth.Registry.Collection;
using Berth.Registry.Data;
using Microsoft.EntityFrameworkCore;

namespace Berth.Registry.Services;

/// <summary>A live tag as retention policies judge it: when it was pushed and last pulled (by name, or its manifest by digest).</summary>
public sealed record LiveTag(string Repository, string Tag, string Digest, DateTime PushedAt, DateTime? LastPulledAt);

/// <summary>A tag row as the API shows it.</summary>
public sealed record TagState(string Name, string ManifestDigest, DateTime StartedAt, DateTime? ExpiresAt);

/// <summary>
/// What the tag history allows: expiring a tag at a set time, restoring a tag to a
/// manifest it pointed at within its namespace's time-machine window, and deleting
/// a tag together with its history (so nothing can restore it and its images are
/// no longer kept for the window).
/// </summary>
public sealed class TimeMachine(RegistryDb registryDb, RepositoryDirectory repositories, RegistryCache cache, TagWriter tags,
    ITimeMachineWindows windows, ITagGuard guard, EventActors actors)
{
    /// <summary>Sets (or with null clears) when the live tag expires; the caller checks the time is in the future.</summary>
    public async Task<TagState> SetExpirationAsync(string repository, string tag, DateTime? expiresAt, CancellationToken cancellationToken)
    {
        var repositoryId = await RequireRepositoryAsync(repository, cancellationToken);
        await guard.RequireMutableAsync(repository, tag, "given an expiration", cancellationToken);
        var actor = actors.Current();
        var state = await registryDb.WriteAsync(async db =>
        {
            var live = await (from t in db.Tags
                              join m in db.Manifests on t.ManifestId equals m.Id
                              where t.RepositoryId == repositoryId && t.Name == tag && t.EndedAt == null
                              select new { Tag = t, m.Digest }).FirstOrDefaultAsync(cancellationToken)
                ?? throw ErrorCode.ManifestUnknown.With($"tag '{tag}' is not in repository '{repository}'", new { tag });
            live.Tag.ExpiresAt = expiresAt;
            db.Publish(new TagExpirationChanged(repository, tag, live.Digest, expiresAt is { } e ? new DateTimeOffset(e, TimeSpan.Zero) : null) { Actor = actor });
            await db.SaveChangesAsync(cancellationToken);
            return new TagState(tag, live.Digest, live.Tag.StartedAt, expiresAt);
        }, cancellationToken);
        cache.RemoveManifest(repositoryId, tag);
        cache.RemoveTagList(repositoryId);
        return state;
    }

    /// <summary>
    /// Points <paramref name="tag"/> at <paramref name="digest"/> again. The tag must have
    /// pointed there in a row that ended within the namespace's window (or still does);
    /// the manifest comes back even if it was deleted by digest meanwhile.
    /// </summary>
    public async Task<TagState> RestoreAsync(string repository, string tag, Digest digest, CancellationToken cancellationToken)
    {
        var repositoryId = await RequireRepositoryAsync(repository, cancellationToken);
        var now = registryDb.Now();
        var windowStart = now - windows.WindowOf(ReachabilityRules.NamespaceOf(repository));
        var digestText = digest.ToString();
        var actor = actors.Current();
        var state = await registryDb.WriteAsync(async db =>
        {
            // Under the manifest's shared lock: a collection cannot remove it between this check and the new tag row.
            await ContentLocks.ShareAsync(db, [ContentLocks.ManifestKey(repositoryId, digestText)], cancellationToken);
            var manifest = await db.Manifests.FirstOrDefaultAsync(m => m.RepositoryId == repositoryId && m.Digest == digestText, cancellationToken);
            var pointedThere = manifest is not null && await db.Tags.AnyAsync(t => t.RepositoryId == repositoryId && t.Name == tag
                && t.ManifestId == manifest.Id && (t.EndedAt == null || t.EndedAt >= windowStart), cancellationToken);
            if (!pointedThere)
                throw ErrorCode.ManifestUnknown.With(
                    $"tag '{tag}' did not point at {digestText} within the time-machine window of '{ReachabilityRules.NamespaceOf(repository)}' ({windows.WindowOf(ReachabilityRules.NamespaceOf(repository))})",
                    new { tag, digest = digestText });
            if (await db.Tags.AnyAsync(t => t.RepositoryId == repositoryId && t.Name == tag && t.EndedAt == null && t.ManifestId != manifest!.Id, cancellationToken))
                await guard.RequireMutableAsync(repository, tag, "moved", cancellationToken);
            manifest!.DeletedAt = null;
            manifest.TouchedAt = now;
            await db.SaveChangesAsync(cancellationToken);
            var (changed, previous) = await tags.PointAsync(db, repositoryId, tag, manifest.Id, now, cancellationToken);
            if (changed)
            {
                var previousDigest = previous is { } id ? await db.Manifests.Where(m => m.Id == id).Select(m => m.Digest).FirstAsync(cancellationToken) : null;
                db.Publish(new TagRestored(repository, tag, digestText, previousDigest) { Actor = actor });
                await db.SaveChangesAsync(cancellationToken);
            }
            return new TagState(tag, digestText, now, null);
        }, cancellationToken);
        cache.RemoveManifest(repositoryId, tag);
        cache.RemoveManifest(repositoryId, digestText);
        cache.RemoveTagList(repositoryId);
        return state;
    }

    /// <summary>Ends the live tag (if any) and deletes every row of its history.</summary>
    public async Task<string?> DeletePermanentlyAsync(string repository, string tag, CancellationToken cancellationToken)
    {
        var repositoryId = await RequireRepositoryAsync(repository, cancellationToken);
        await guard.RequireMutableAsync(repository, tag, "deleted", cancellationToken);
        var actor = actors.Current();
        var digest = await registryDb.WriteAsync(async db =>
        {
            var rows = db.Tags.Where(t => t.RepositoryId == repositoryId && t.Name == tag);
            var current = await (from t in rows join m in db.Manifests on t.ManifestId equals m.Id
                                 orderby t.EndedAt == null descending, t.Id descending
                                 select m.Digest).FirstOrDefaultAsync(cancellationToken)
                ?? throw ErrorCode.ManifestUnknown.With($"tag '{tag}' is not in repository '{repository}', nor in its history", new { tag });
            await rows.ExecuteDeleteAsync(cancellationToken);
            db.Publish(new TagDeleted(repository, tag, current) { Actor = actor, Permanent = true });
            await db.SaveChangesAsync(cancellationToken);
            return current;
        }, cancellationToken);
        cache.RemoveManifest(repositoryId, tag);
        cache.RemoveTagList(repositoryId);
        return digest;
    }

    /// <summary>The live tags of a scope, for retention policies to judge.</summary>
    public async Task<List<LiveTag>> ListLiveTagsAsync(CollectionScope scope, CancellationToken cancellationToken)
    {
        await using var db = registryDb.Open();
        var repositories = CollectionPlanner.RepositoriesIn(db, scope);
        var rows = await (from t in db.Tags.AsNoTracking()
                          join m in db.Manifests.AsNoTracking() on t.ManifestId equals m.Id
                          join r in repositories on t.RepositoryId equals r.Id
                          where t.EndedAt == null
                          select new { Repository = r.Name, t.Name, m.Digest, t.StartedAt, TagPulled = t.LastPulledAt, ManifestPulled = m.LastPulledAt })
            .ToListAsync(cancellationToken);
        return [.. rows.Select(r => new LiveTag(r.Repository, r.Name, r.Digest, r.StartedAt,
            r.TagPulled is { } tagPulled && (r.ManifestPulled is not { } manifestPulled || tagPulled >= manifestPulled) ? tagPulled : r.ManifestPulled))];
    }

    /// <summary>
    /// Ends a tag for a retention policy, if it still points at <paramref name="digest"/>
    /// (a push since the policy judged it wins) and is not immutable. Returns whether it ended.
    /// </summary>
    public async Task<bool> PruneAsync(string repository, string tag, string digest, string policy, CancellationToken cancellationToken)
    {
        if (await guard.ImmutableBecauseAsync(repository, tag, cancellationToken) is not null) return false;
        if (await repositories.FindAsync(repository, cancellationToken) is not { } repositoryId) return false;
        var now = registryDb.Now();
        var ended = await registryDb.WriteAsync(async db =>
        {
            var count = await db.Tags.Where(t => t.RepositoryId == repositoryId && t.Name == tag && t.EndedAt == null
                    && db.Manifests.Any(m => m.Id == t.ManifestId && m.Digest == digest))
                .ExecuteUpdateAsync(u => u.SetProperty(t => t.EndedAt, now), cancellationToken);
            if (count == 0) return false;
            db.Publish(new TagPruned(repository, tag, digest, policy) { Actor = Berth.Contracts.EventActor.System });
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }, cancellationToken);
        if (ended)
        {
            cache.RemoveManifest(repositoryId, tag);
            cache.RemoveTagList(repositoryId);
        }
        return ended;
    }

    private async Task<long> RequireRepositoryAsync(string repository, CancellationToken cancellationToken) =>
        await repositories.FindAsync(repository, cancellationToken)
            ?? throw ErrorCode.NameUnknown.With($"repository '{repository}' is not known", new { name = repository });
}
