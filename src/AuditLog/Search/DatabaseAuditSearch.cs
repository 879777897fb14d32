using Berth.AuditLog.Data;
using Microsoft.EntityFrameworkCore;

namespace Berth.AuditLog.Search;

/// <summary>Searches the log's own database: current the moment an entry is recorded.</summary>
public sealed class DatabaseAuditSearch(AuditLogDb auditLogDb) : IAuditSearch
{
    public async Task<IReadOnlyList<AuditEntry>> NewestAsync(AuditFilter filter, long? before, int count, CancellationToken cancellationToken)
    {
        await using var db = auditLogDb.Open();
        var query = filter.Apply(db.Entries.AsNoTracking());
        if (before is { } cursor) query = query.Where(e => e.Id < cursor);
        return await query.OrderByDescending(e => e.Id).Take(count).ToListAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<AuditEntry>> OldestAsync(AuditFilter filter, long after, int count, CancellationToken cancellationToken)
    {
        await using var db = auditLogDb.Open();
        return await filter.Apply(db.Entries.AsNoTracking()).Where(e => e.Id > after).OrderBy(e => e.Id).Take(count).ToListAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<KindCount>> CountByKindPerDayAsync(AuditFilter filter, CancellationToken cancellationToken)
    {
        await using var db = auditLogDb.Open();
        // Grouped by kind and timestamp in the database, by day here: day truncation differs per provider.
        var groups = await filter.Apply(db.Entries.AsNoTracking())
            .GroupBy(e => new { e.Kind, e.OccurredAt.Year, e.OccurredAt.Month, e.OccurredAt.Day })
            .Select(g => new { g.Key.Kind, g.Key.Year, g.Key.Month, g.Key.Day, Count = g.LongCount() })
            .ToListAsync(cancellationToken);
        return [.. groups
            .Select(g => new KindCount(new DateOnly(g.Year, g.Month, g.Day), g.Kind, g.Count))
            .OrderBy(c => c.Day).ThenBy(c => c.Kind, StringComparer.Ordinal)];
    }
}
