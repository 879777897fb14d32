using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace Berth.Data;

/// <summary>
/// "Is one of these values", for a statement written out for EF's raw SQL (placeholders
/// <c>{n}</c>, values mapped as EF maps the column's type). On PostgreSQL the values are one
/// array parameter, so every count of values is the same statement, prepared once per
/// connection; SQLite has no arrays, so each value gets its own placeholder.
/// </summary>
public static class AnyOf
{
    /// <summary>The condition to write after a column; the values go to the end of <paramref name="parameters"/>.</summary>
    public static string Condition<T>(DatabaseFacade database, IReadOnlyCollection<T> values, List<object> parameters)
        where T : notnull
    {
        var first = parameters.Count;
        if (database.IsNpgsql())
        {
            parameters.Add(values.ToArray());
            return $"= ANY({{{first}}})";
        }
        parameters.AddRange(values.Cast<object>());
        return "IN (" + string.Join(", ", Enumerable.Range(first, values.Count).Select(i => $"{{{i}}}")) + ")";
    }
}
