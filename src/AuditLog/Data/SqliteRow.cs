using System.Buffers;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Berth.AuditLog.Data;

/// <summary>
/// Binding and running a prepared SQLite statement directly, for <see cref="AuditEntryInsert"/>.
/// Values are stored exactly as Microsoft.Data.Sqlite stores them for EF's SQLite mappings
/// (a Guid as upper-case text, a DateTime as "yyyy-MM-dd HH:mm:ss.FFFFFFF"), so EF reads
/// the rows back, and compares them in queries, as if it had written them.
/// Text is bound as UTF-8, the database's own encoding: text bound as UTF-16 is converted
/// by SQLite when the row is built, which cost more than encoding it here (bench/AuditIngest).
/// </summary>
internal static class SqliteRow
{
    /// <summary>Longer text is encoded into a pooled buffer rather than on the stack.</summary>
    private const int StackBytes = 1024;

    /// <summary>Binds <paramref name="value"/> (a provider value: EF's converter already applied) to parameter <paramref name="index"/> (1-based).</summary>
    public static void Bind(sqlite3_stmt statement, sqlite3 handle, int index, object value)
    {
        var rc = value switch
        {
            DBNull => raw.sqlite3_bind_null(statement, index),
            string s => BindText(statement, index, s),
            long n => raw.sqlite3_bind_int64(statement, index, n),
            int n => raw.sqlite3_bind_int64(statement, index, n),
            Guid g => BindUpperCase(statement, index, g),
            DateTime t => BindFormatted(statement, index, t),
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

    /// <summary>SQLite copies bound text before this returns, so the buffer is only needed for the call.</summary>
    private static int BindText(sqlite3_stmt statement, int index, string text)
    {
        var most = Encoding.UTF8.GetMaxByteCount(text.Length);
        if (most <= StackBytes)
        {
            Span<byte> buffer = stackalloc byte[most];
            return raw.sqlite3_bind_text(statement, index, buffer[..Encoding.UTF8.GetBytes(text, buffer)]);
        }
        var rented = ArrayPool<byte>.Shared.Rent(most);
        try
        {
            return raw.sqlite3_bind_text(statement, index, rented.AsSpan(0, Encoding.UTF8.GetBytes(text, rented)));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private const string DateTimeFormat = @"yyyy\-MM\-dd HH\:mm\:ss.FFFFFFF";

    /// <summary>27 bytes: "yyyy-MM-dd HH:mm:ss.FFFFFFF" at its longest.</summary>
    private static int BindFormatted(sqlite3_stmt statement, int index, DateTime value)
    {
        Span<byte> utf8 = stackalloc byte[27];
        value.TryFormat(utf8, out var written, DateTimeFormat, CultureInfo.InvariantCulture);
        return raw.sqlite3_bind_text(statement, index, utf8[..written]);
    }

    /// <summary>36 bytes: a Guid in its "D" form, hex digits upper-cased as Microsoft.Data.Sqlite writes them.</summary>
    private static int BindUpperCase(sqlite3_stmt statement, int index, Guid value)
    {
        Span<byte> utf8 = stackalloc byte[36];
        value.TryFormat(utf8, out var written, "D");
        for (var i = 0; i < written; i++)
            if (utf8[i] is >= (byte)'a' and <= (byte)'f') utf8[i] -= 'a' - 'A';
        return raw.sqlite3_bind_text(statement, index, utf8[..written]);
    }
}
