using Berth.AuditLog.Data;

namespace Berth.AuditLog.Search;

/// <summary>
/// Where the search API reads entries: the log's own database (the default), or
/// Elasticsearch (<c>AuditLog:SearchBackend</c>), which takes the searches off the
/// database that records. Both answer the same filters with the same entries;
/// sequence numbers are the log's ids, so cursors mean the same on either.
/// </summary>
public interface IAuditSearch
{
    /// <summary>Up to <paramref name="count"/> matching entries, newest first, each older than sequence <paramref name="before"/> when given.</summary>
    Task<IReadOnlyList<AuditEntry>> NewestAsync(AuditFilter filter, long? before, int count, CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="count"/> matching entries, oldest first, each after sequence <paramref name="after"/>.</summary>
    Task<IReadOnlyList<AuditEntry>> OldestAsync(AuditFilter filter, long after, int count, CancellationToken cancellationToken);

    /// <summary>How many matching entries of each kind per day (UTC), by day then kind.</summary>
    Task<IReadOnlyList<KindCount>> CountByKindPerDayAsync(AuditFilter filter, CancellationToken cancellationToken);
}

public sealed record KindCount(DateOnly Day, string Kind, long Count);
