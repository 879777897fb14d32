using Berth.AuditLog.Data;
using Berth.AuditLog.Recording;
using Microsoft.EntityFrameworkCore;

namespace Berth.AuditLog.Search;

/// <summary>
/// Searches the log's own database: current the moment an entry is recorded. Pulls are in
/// a table of their own (<see cref="PullEntry"/>); each search reads both tables up to the
/// same last id (<see cref="AuditLogDbContext.LastIdAsync"/>) and merges them in id order.
/// </summary>
public sealed class DatabaseAuditSearch(AuditLogDb auditLogDb) : IAuditSearch
{
    public async Task<IReadOnlyList<AuditEntry>> NewestAsync(AuditFilter filter, long? before, int count, CancellationToken cancellationToken)
    {
        await using var db = auditLogDb.Open();
        var upTo = await db.LastIdAsync(cancellationToken);
        var query = filter.Apply(db.Entries.AsNoTracking()).Where(e => e.Id <= upTo);
        if (before is { } cursor) query = query.Where(e => e.Id < cursor);
        var entries = await query.OrderByDescending(e => e.Id).Take(count).ToListAsync(cancellationToken);
        if (await filter.ApplyToPullsAsync(db, cancellationToken) is not { } pulls) return entries;
        pulls = pulls.Where(p => p.Id <= upTo);
        if (before is { } pullCursor) pulls = pulls.Where(p => p.Id < pullCursor);
        var pulled = await PullEntryRead.ToEntriesAsync(db, pulls.OrderByDescending(p => p.Id).Take(count), cancellationToken);
        return IdOrder.Merge(entries, pulled, count, newestFirst: true);
    }

    public async Task<IReadOnlyList<AuditEntry>> OldestAsync(AuditFilter filter, long after, int count, CancellationToken cancellationToken)
    {
        await using var db = auditLogDb.Open();
        var upTo = await db.LastIdAsync(cancellationToken);
        var entries = await filter.Apply(db.Entries.AsNoTracking()).Where(e => e.Id > after && e.Id <= upTo).OrderBy(e => e.Id).Take(count).ToListAsync(cancellationToken);
        if (await filter.ApplyToPullsAsync(db, cancellationToken) is not { } pulls) return entries;
        var pulled = await PullEntryRead.ToEntriesAsync(db, pulls.Where(p => p.Id > after && p.Id <= upTo).OrderBy(p => p.Id).Take(count), cancellationToken);
        return IdOrder.Merge(entries, pulled, count, newestFirst: false);
    }

    public async Task<IReadOnlyList<KindCount>> CountByKindPerDayAsync(AuditFilter filter, CancellationToken cancellationToken)
    {
        await using var db = auditLogDb.Open();
        // Grouped by kind and timestamp in the database, by day here: day truncation differs per provider.
        var groups = await filter.Apply(db.Entries.AsNoTracking())
            .GroupBy(e => new { e.Kind, e.OccurredAt.Year, e.OccurredAt.Month, e.OccurredAt.Day })
            .Select(g => new { g.Key.Kind, g.Key.Year, g.Key.Month, g.Key.Day, Count = g.LongCount() })
            .ToListAsync(cancellationToken);
        var counts = groups.Select(g => new KindCount(new DateOnly(g.Year, g.Month, g.Day), g.Kind, g.Count)).ToList();
        if (await filter.ApplyToPullsAsync(db, cancellationToken) is { } pulls)
        {
            // The pull table's time is a number of ticks: a day is a whole number of them.
            var days = await pulls.GroupBy(p => p.OccurredTicks / TimeSpan.TicksPerDay)
                .Select(g => new { Day = g.Key, Count = g.LongCount() })
                .ToListAsync(cancellationToken);
            counts.AddRange(days.Select(d => new KindCount(DateOnly.FromDayNumber((int)d.Day), AuditKinds.PullRepo, d.Count)));
        }
        // Pulls recorded before the pull table was made are entries: one count a kind and day either way.
        return [.. counts
            .GroupBy(c => (c.Day, c.Kind))
            .Select(g => new KindCount(g.Key.Day, g.Key.Kind, g.Sum(c => c.Count)))
            .OrderBy(c => c.Day).ThenBy(c => c.Kind, StringComparer.Ordinal)];
    }
}
