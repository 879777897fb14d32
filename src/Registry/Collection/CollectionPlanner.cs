using Berth.Registry.Data;
using Microsoft.EntityFrameworkCore;

namespace Berth.Registry.Collection;

public sealed record TagCandidate(long Id, long RepositoryId, string Repository, string Name, long ManifestId, DateTime ExpiresAt);

public sealed record ManifestCandidate(long Id, long RepositoryId, string Digest);

public sealed record LinkCandidate(long RepositoryId, string Digest);

public sealed record BlobCandidate(string Digest, long Size);

/// <summary>
/// What a collection would remove, worked out from its scope with
/// the effect of each stage on the next: tags that expire, history that falls out
/// of the window, the manifests nothing then reaches (in layers: an index before
/// the children only it named), the links no remaining manifest needs, and the
/// blobs nothing links any more.
/// </summary>
public sealed class CollectionPlan
{
    public List<TagCandidate> ExpiredTags { get; } = [];
    public List<long> PrunableTagRows { get; } = [];
    public List<List<ManifestCandidate>> ManifestLayers { get; } = [];
    public List<LinkCandidate> Links { get; } = [];
    public List<BlobCandidate> Blobs { get; } = [];
    public Dictionary<long, string> RepositoryNames { get; } = [];
}

/// <summary>
/// The mark half of mark-and-sweep: reads, never writes. It rests between its
/// steps as the sweep does (<see cref="Pacer"/>); each query reads the latest
/// state, and the sweep re-checks every candidate under its lock, so a plan read
/// over a while is as safe as one read at once.
/// </summary>
public static class CollectionPlanner
{
    private const int ChunkSize = 500;

    public static IQueryable<RepositoryRow> RepositoriesIn(RegistryDbContext db, CollectionScope scope) => scope switch
    {
        { Repository: { } name } => db.Repositories.Where(r => r.Name == name),
        { Namespace: "" } => db.Repositories.Where(r => !r.Name.Contains('/')),
        { Namespace: { } prefix } => db.Repositories.Where(r => r.Name.StartsWith(prefix + "/")),
        _ => db.Repositories,
    };

    public static async Task<CollectionPlan> PlanAsync(RegistryDbContext db, CollectionRequest request, DateTime now, TimeSpan grace, Pacer pacer, CancellationToken cancellationToken)
    {
        var plan = new CollectionPlan();
        var graceCutoff = now - grace;
        var repositories = RepositoriesIn(db, request.Scope);
        foreach (var repository in await repositories.AsNoTracking().Select(r => new { r.Id, r.Name }).ToListAsync(cancellationToken))
            plan.RepositoryNames[repository.Id] = repository.Name;
        var windowCutoffs = plan.RepositoryNames.ToDictionary(r => r.Key,
            r => now - request.TimeMachineWindow(ReachabilityRules.NamespaceOf(r.Value)));

        // Tags: expiry ends a live row at its expiration time, which may already be outside the window.
        var tags = await db.Tags.AsNoTracking().Where(t => repositories.Any(r => r.Id == t.RepositoryId))
            .Select(t => new { t.Id, t.RepositoryId, t.Name, t.ManifestId, t.EndedAt, t.ExpiresAt }).ToListAsync(cancellationToken);
        var taggedManifests = new HashSet<long>();
        foreach (var tag in tags)
        {
            var endedAt = tag.EndedAt;
            if (ReachabilityRules.TagExpired(tag.EndedAt, tag.ExpiresAt, now))
            {
                plan.ExpiredTags.Add(new TagCandidate(tag.Id, tag.RepositoryId, plan.RepositoryNames[tag.RepositoryId], tag.Name, tag.ManifestId, tag.ExpiresAt!.Value));
                endedAt = tag.ExpiresAt;
            }
            if (ReachabilityRules.TagHistoryPrunable(endedAt, windowCutoffs[tag.RepositoryId])) plan.PrunableTagRows.Add(tag.Id);
            else taggedManifests.Add(tag.ManifestId);
        }

        await pacer.RestAsync(cancellationToken);
        await PlanManifestsAsync(db, repositories, plan, taggedManifests, graceCutoff, cancellationToken);
        await pacer.RestAsync(cancellationToken);
        var collected = plan.ManifestLayers.SelectMany(layer => layer).Select(m => m.Id).ToHashSet();
        await PlanLinksAsync(db, repositories, plan, collected, graceCutoff, cancellationToken);
        await pacer.RestAsync(cancellationToken);
        await PlanBlobsAsync(db, request.Scope, plan, collected, graceCutoff, pacer, cancellationToken);
        return plan;
    }

    /// <summary>Repeats until nothing more falls: each pass may free the children and referrers of the last.</summary>
    private static async Task PlanManifestsAsync(RegistryDbContext db, IQueryable<RepositoryRow> repositories, CollectionPlan plan,
        HashSet<long> taggedManifests, DateTime graceCutoff, CancellationToken cancellationToken)
    {
        var manifests = await db.Manifests.AsNoTracking().Where(m => repositories.Any(r => r.Id == m.RepositoryId))
            .Select(m => new { m.Id, m.RepositoryId, m.Digest, m.SubjectDigest, LastPushedAt = m.TouchedAt ?? m.PushedAt })
            .ToListAsync(cancellationToken);
        var parentsOf = (await (from c in db.ManifestChildren.AsNoTracking()
                                join p in db.Manifests.AsNoTracking() on c.ParentId equals p.Id
                                where repositories.Any(r => r.Id == p.RepositoryId)
                                select new { c.ParentId, c.ChildId }).ToListAsync(cancellationToken))
            .ToLookup(e => e.ChildId, e => e.ParentId);
        var byDigest = manifests.ToDictionary(m => (m.RepositoryId, m.Digest), m => m.Id);
        var collected = new HashSet<long>();
        var remaining = manifests;
        while (true)
        {
            var layer = remaining.Where(m => ReachabilityRules.ManifestCollectable(new ManifestFacts(
                HasTagRow: taggedManifests.Contains(m.Id),
                HasParent: parentsOf[m.Id].Any(parent => !collected.Contains(parent)),
                HasSubject: m.SubjectDigest is { } subject && byDigest.TryGetValue((m.RepositoryId, subject), out var subjectId) && !collected.Contains(subjectId),
                LastPushedAt: m.LastPushedAt), graceCutoff)).ToList();
            if (layer.Count == 0) break;
            plan.ManifestLayers.Add([.. layer.Select(m => new ManifestCandidate(m.Id, m.RepositoryId, m.Digest))]);
            collected.UnionWith(layer.Select(m => m.Id));
            remaining = [.. remaining.Where(m => !collected.Contains(m.Id))];
        }
    }

    private static async Task PlanLinksAsync(RegistryDbContext db, IQueryable<RepositoryRow> repositories, CollectionPlan plan,
        HashSet<long> collectedManifests, DateTime graceCutoff, CancellationToken cancellationToken)
    {
        var references = (await (from mb in db.ManifestBlobs.AsNoTracking()
                                 join m in db.Manifests.AsNoTracking() on mb.ManifestId equals m.Id
                                 where repositories.Any(r => r.Id == m.RepositoryId)
                                 select new { mb.ManifestId, m.RepositoryId, mb.Digest }).ToListAsync(cancellationToken))
            .Where(r => !collectedManifests.Contains(r.ManifestId))
            .Select(r => (r.RepositoryId, r.Digest)).ToHashSet();
        var links = await db.RepositoryBlobs.AsNoTracking().Where(l => repositories.Any(r => r.Id == l.RepositoryId))
            .Select(l => new { l.RepositoryId, l.Digest, l.LinkedAt }).ToListAsync(cancellationToken);
        plan.Links.AddRange(links
            .Where(l => ReachabilityRules.LinkCollectable(new LinkFacts(references.Contains((l.RepositoryId, l.Digest)), l.LinkedAt), graceCutoff))
            .Select(l => new LinkCandidate(l.RepositoryId, l.Digest)));
    }

    /// <summary>
    /// A whole-registry run looks at every blob (an interrupted run may have left
    /// unlinked ones); a scoped run only at blobs whose links it removes, and checks
    /// the rest of the registry for other links and references to them.
    /// </summary>
    private static async Task PlanBlobsAsync(RegistryDbContext db, CollectionScope scope, CollectionPlan plan,
        HashSet<long> collectedManifests, DateTime graceCutoff, Pacer pacer, CancellationToken cancellationToken)
    {
        var removedLinks = plan.Links.Select(l => (l.RepositoryId, l.Digest)).ToHashSet();
        var digests = scope.IsAll
            ? await db.Blobs.AsNoTracking().Select(b => b.Digest).ToListAsync(cancellationToken)
            : [.. plan.Links.Select(l => l.Digest).Distinct()];
        foreach (var chunk in digests.Chunk(ChunkSize))
        {
            var blobs = await db.Blobs.AsNoTracking().Where(b => chunk.Contains(b.Digest))
                .Select(b => new { b.Digest, b.Size, b.CreatedAt }).ToListAsync(cancellationToken);
            var linked = (await db.RepositoryBlobs.AsNoTracking().Where(l => chunk.Contains(l.Digest))
                    .Select(l => new { l.RepositoryId, l.Digest }).ToListAsync(cancellationToken))
                .Where(l => !removedLinks.Contains((l.RepositoryId, l.Digest))).Select(l => l.Digest).ToHashSet();
            var referenced = (await db.ManifestBlobs.AsNoTracking().Where(r => chunk.Contains(r.Digest))
                    .Select(r => new { r.ManifestId, r.Digest }).ToListAsync(cancellationToken))
                .Where(r => !collectedManifests.Contains(r.ManifestId)).Select(r => r.Digest).ToHashSet();
            plan.Blobs.AddRange(blobs
                .Where(b => ReachabilityRules.BlobCollectable(new BlobFacts(linked.Contains(b.Digest), referenced.Contains(b.Digest), b.CreatedAt), graceCutoff))
                .Select(b => new BlobCandidate(b.Digest, b.Size)));
            await pacer.RestAsync(cancellationToken);
        }
    }
}
