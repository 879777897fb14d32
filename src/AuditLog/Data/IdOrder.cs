namespace Berth.AuditLog.Data;

/// <summary>
/// Entries and pulls share one sequence of ids but live in two tables: a page of the log
/// is the first <c>limit</c> of both tables' pages, merged in id order.
/// </summary>
internal static class IdOrder
{
    /// <summary>Merges two lists already in the same id order (descending when <paramref name="newestFirst"/>) and keeps the first <paramref name="limit"/>.</summary>
    public static List<AuditEntry> Merge(List<AuditEntry> entries, List<AuditEntry> pulls, int limit, bool newestFirst)
    {
        var merged = new List<AuditEntry>(Math.Min(limit, entries.Count + pulls.Count));
        int e = 0, p = 0;
        while (merged.Count < limit && (e < entries.Count || p < pulls.Count))
        {
            var takeEntry = p == pulls.Count
                || (e < entries.Count && (newestFirst ? entries[e].Id > pulls[p].Id : entries[e].Id < pulls[p].Id));
            merged.Add(takeEntry ? entries[e++] : pulls[p++]);
        }
        return merged;
    }
}
