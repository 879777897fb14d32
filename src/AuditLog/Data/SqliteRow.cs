using System.Globalization;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Berth.AuditLog.Data;

/// <summary>
/// Binding and running a prepared SQLite statement directly, for <see cref="AuditEntryInsert"/>.
/// Values are stored exactly as Microsoft.Data.Sqlite stores them for EF's SQLite mappings
/// (a Guid as upper-case text, a DateTime as "yyyy-MM-dd HH:mm:ss.FFFFFFF"), so EF reads
/// the rows back, and compares them in queries, as if it had written them.
/// </summary>
internal static class SqliteRow
{
    /// <summary>Binds <paramref name="value"/> (a provider value: EF's converter already applied) to parameter <paramref name="index"/> (1-based).</summary>
    public static void Bind(sqlite3_stmt statement, sqlite3 handle, int index, object value)
    {
        // Room for the longer of the two formatted values: a Guid (36 chars) or a DateTime (27).
        Span<char> text = stackalloc char[36];
        var rc = value switch
        {
            DBNull => raw.sqlite3_bind_null(statement, index),
            string s => raw.sqlite3_bind_text16(statement, index, s.AsSpan()),
            long n => raw.sqlite3_bind_int64(statement, index, n),
            int n => raw.sqlite3_bind_int64(statement, index, n),
            Guid g => raw.sqlite3_bind_text16(statement, index, UpperCase(g, text)),
            DateTime t => raw.sqlite3_bind_text16(statement, index, Formatted(t, text)),
            _ => throw new NotSupportedException($"an audit column of type {value.GetType()} has no SQLite binding here"),
        };
        Check(rc, handle);
    }

    /// <summary>Runs the bound statement once and readies it for the next row; returns whether it changed a row.</summary>
    public static bool Run(sqlite3_stmt statement, sqlite3 handle)
    {
        var rc = raw.sqlite3_step(statement);
        raw.sqlite3_reset(statement);
        if (rc != raw.SQLITE_DONE) Check(rc, handle);
        return raw.sqlite3_changes(handle) > 0;
    }

    /// <summary>Throws what Microsoft.Data.Sqlite would for a failed call (a <see cref="SqliteException"/> with SQLite's codes and message).</summary>
    public static void Check(int rc, sqlite3 handle) => SqliteException.ThrowExceptionForRC(rc, handle);

    private const string DateTimeFormat = @"yyyy\-MM\-dd HH\:mm\:ss.FFFFFFF";

    private static ReadOnlySpan<char> Formatted(DateTime value, Span<char> text)
    {
        value.TryFormat(text, out var written, DateTimeFormat, CultureInfo.InvariantCulture);
        return text[..written];
    }

    private static ReadOnlySpan<char> UpperCase(Guid value, Span<char> text)
    {
        value.TryFormat(text, out var written, "D");
        for (var i = 0; i < written; i++)
            if (text[i] is >= 'a' and <= 'f') text[i] = (char)(text[i] - ('a' - 'A'));
        return text[..written];
    }
}
