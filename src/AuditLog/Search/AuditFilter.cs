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
}
