using Berth.AuditLog.Data;
using Berth.AuditLog.Recording;
using Microsoft.EntityFrameworkCore;

namespace Berth.AuditLog.Search;

/// <summary>What a search asks for; empty fields match everything. <see cref="PerformedBy"/> is set by access control, not by the caller.</summary>
public sealed record AuditFilter(
    string? Namespace,
    string? Repository,
    string? Performer,
    IReadOnlyCollection<string> Kinds,
    DateTime? Since,
    DateTime? Until)
{
    /// <summary>Restricts the results to the caller's own actions (a caller who administers no namespace asked).</summary>
    public string? PerformedBy { get; init; }

    /// <summary>
    /// With <see cref="PerformedBy"/>: the performer's kind (user or robot), so an account
    /// named like a made-up performer ("system", "anonymous") does not read those entries.
    /// </summary>
    public string? PerformedByKind { get; init; }

    public IQueryable<AuditEntry> Apply(IQueryable<AuditEntry> entries)
    {
        if (!string.IsNullOrEmpty(Namespace)) entries = entries.Where(e => e.Namespace == Namespace);
        if (!string.IsNullOrEmpty(Repository)) entries = entries.Where(e => e.Repository == Repository);
        if (!string.IsNullOrEmpty(Performer)) entries = entries.Where(e => e.Performer == Performer);
        if (!string.IsNullOrEmpty(PerformedBy)) entries = entries.Where(e => e.Performer == PerformedBy && e.PerformerKind == PerformedByKind);
        if (Kinds.Count > 0) entries = entries.Where(e => Kinds.Contains(e.Kind));
        // Says outright what the kinds imply, in the words of the kind index's filter, which
        // leaves pulls out: a database uses a partial index only for a query that says so.
        if (Kinds.Count > 0 && !Kinds.Contains(AuditKinds.PullRepo)) entries = entries.Where(e => e.Kind != AuditKinds.PullRepo);
        if (Since is { } since) entries = entries.Where(e => e.OccurredAt >= since);
        if (Until is { } until) entries = entries.Where(e => e.OccurredAt < until);
        return entries;
    }

    /// <summary>
    /// The same filter on the compact pull table, its names turned into the ids the table
    /// holds; null when no pull can match (only other kinds are asked for, or a name no pull has).
    /// </summary>
    public async Task<IQueryable<PullEntry>?> ApplyToPullsAsync(AuditLogDbContext db, CancellationToken cancellationToken)
    {
        if (Kinds.Count > 0 && !Kinds.Contains(AuditKinds.PullRepo)) return null;
        // As for entries: a kind that no entry can have matches nothing, and a kind without a performer is no condition.
        if (!string.IsNullOrEmpty(PerformedBy) && string.IsNullOrEmpty(PerformedByKind)) return null;
        var named = new[] { Namespace, Repository, Performer, PerformedBy, string.IsNullOrEmpty(PerformedBy) ? null : PerformedByKind }
            .OfType<string>().Where(n => n.Length > 0).Distinct().ToList();
        var ids = named.Count == 0 ? []
            : await db.Names.AsNoTracking().Where(n => named.Contains(n.Name)).ToDictionaryAsync(n => n.Name, n => n.Id, cancellationToken);
        if (named.Any(n => !ids.ContainsKey(n))) return null;

        IQueryable<PullEntry> pulls = db.Pulls.AsNoTracking();
        if (!string.IsNullOrEmpty(Namespace))
        {
            var namespaceId = ids[Namespace];
            pulls = pulls.Where(p => p.NamespaceId == namespaceId);
        }
        if (!string.IsNullOrEmpty(Repository))
        {
            var repositoryId = ids[Repository];
            pulls = pulls.Where(p => p.RepositoryId == repositoryId);
        }
        if (!string.IsNullOrEmpty(Performer))
        {
            var performerId = ids[Performer];
            pulls = pulls.Where(p => p.PerformerId == performerId);
        }
        if (!string.IsNullOrEmpty(PerformedBy))
        {
            var (performerId, kindId) = (ids[PerformedBy], ids[PerformedByKind!]);
            pulls = pulls.Where(p => p.PerformerId == performerId && p.PerformerKindId == kindId);
        }
        if (Since is { } since)
        {
            var sinceTicks = Ticks(since);
            pulls = pulls.Where(p => p.OccurredTicks >= sinceTicks);
        }
        if (Until is { } until)
        {
            var untilTicks = Ticks(until);
            pulls = pulls.Where(p => p.OccurredTicks < untilTicks);
        }
        return pulls;
    }

    /// <summary>A time as the pull table keeps it: its ticks as given, as entries' times are compared.</summary>
    private static long Ticks(DateTime time) => time.Ticks;
}
