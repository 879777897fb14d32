using System.Buffers.Text;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using SQLitePCL;

namespace Berth.AuditLog.Data;

/// <summary>
/// Reads the entries after a checkpoint, in id order, the way sinks take them: on
/// SQLite with SQLite's own prepared statement, on other providers through EF.
/// A shipper reads every entry the log records; through EF each column of each row
/// went through Microsoft.Data.Sqlite's reader (a handle reference taken and released,
/// the text transcoded, a date parsed as free-form text). Here a column's text is
/// decoded only when it differs from the row before's (most of a batch is the same few
/// performers and clients), and ids and dates in the one format the log writes are read
/// directly. Rows read exactly as EF reads them; AuditEntryReadTests compares the two.
/// </summary>
internal static class AuditEntryRead
{
    /// <summary>Up to <paramref name="limit"/> entries with ids above <paramref name="afterId"/>, lowest first: pulls from the pull table among them.</summary>
    public static async Task<List<AuditEntry>> NextAsync(AuditLogDbContext db, long afterId, int limit, CancellationToken cancellationToken)
    {
        var upTo = await db.LastIdAsync(cancellationToken);
        if (upTo <= afterId) return [];
        // Pulls first, as most of a busy log: a full page of them ends where the entries that can join it end.
        var pulls = await PullEntryRead.AfterAsync(db, afterId, upTo, limit, cancellationToken);
        var entries = await EntriesAfterAsync(db, afterId, pulls.Count == limit ? pulls[^1].Id : upTo, limit, cancellationToken);
        return IdOrder.Merge(entries, pulls, limit, newestFirst: false);
    }

    private static async Task<List<AuditEntry>> EntriesAfterAsync(AuditLogDbContext db, long afterId, long upTo, int limit, CancellationToken cancellationToken)
    {
        if (!db.Database.IsSqlite())
            return await db.Entries.AsNoTracking().Where(e => e.Id > afterId && e.Id <= upTo).OrderBy(e => e.Id).Take(limit).ToListAsync(cancellationToken);
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            return ReadFromSqlite(db, afterId, upTo, limit, cancellationToken);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>The columns in the order the statement selects them; <see cref="Read"/> reads them by these positions.</summary>
    private static readonly string[] Properties =
    [
        nameof(AuditEntry.Id), nameof(AuditEntry.EntryId), nameof(AuditEntry.Kind), nameof(AuditEntry.Namespace),
        nameof(AuditEntry.Repository), nameof(AuditEntry.Performer), nameof(AuditEntry.PerformerKind), nameof(AuditEntry.Address),
        nameof(AuditEntry.UserAgent), nameof(AuditEntry.RequestId), nameof(AuditEntry.OccurredAt), nameof(AuditEntry.Metadata),
        nameof(AuditEntry.SourceEvent),
    ];

    private static List<AuditEntry> ReadFromSqlite(AuditLogDbContext db, long afterId, long upTo, int limit, CancellationToken cancellationToken)
    {
        var connection = (SqliteConnection)db.Database.GetDbConnection();
        var handle = connection.Handle ?? throw new InvalidOperationException("the audit log's SQLite connection is not open");
        var table = new Table(db);
        SqliteRow.Check(raw.sqlite3_prepare_v2(handle, table.SelectAfter(), out var statement), handle);
        using (statement)
        {
            SqliteRow.Check(raw.sqlite3_bind_int64(statement, 1, afterId), handle);
            SqliteRow.Check(raw.sqlite3_bind_int64(statement, 2, limit), handle);
            SqliteRow.Check(raw.sqlite3_bind_int64(statement, 3, upTo), handle);
            var texts = new RepeatedText[Properties.Length];
            var entries = new List<AuditEntry>(Math.Min(limit, 4096));
            int rc;
            while ((rc = raw.sqlite3_step(statement)) == raw.SQLITE_ROW)
            {
                cancellationToken.ThrowIfCancellationRequested();
                entries.Add(Read(statement, texts, connection, table));
            }
            if (rc != raw.SQLITE_DONE) SqliteRow.Check(rc, handle);
            return entries;
        }
    }

    private static AuditEntry Read(sqlite3_stmt row, RepeatedText[] texts, SqliteConnection connection, Table table)
    {
        var id = raw.sqlite3_column_int64(row, 0);
        return new()
        {
            Id = id,
            EntryId = TryReadGuid(row, 1, out var entryId) ? entryId : table.ReadAsEf(connection, 1, id, r => r.GetGuid(0)),
            Kind = Required(row, 2, texts),
            Namespace = Required(row, 3, texts),
            Repository = Optional(row, 4, texts),
            Performer = Required(row, 5, texts),
            PerformerKind = Required(row, 6, texts),
            Address = Optional(row, 7, texts),
            UserAgent = Optional(row, 8, texts),
            RequestId = Optional(row, 9, texts),
            OccurredAt = TryReadDateTime(row, 10, out var occurredAt) ? occurredAt : table.ReadAsEf(connection, 10, id, r => r.GetDateTime(0)),
            Metadata = Required(row, 11, texts),
            SourceEvent = Required(row, 12, texts),
        };
    }

    private static string Required(sqlite3_stmt row, int column, RepeatedText[] texts) =>
        Optional(row, column, texts) ?? throw new InvalidOperationException($"the audit log holds NULL in the required column {Properties[column]}");

    private static string? Optional(sqlite3_stmt row, int column, RepeatedText[] texts) =>
        raw.sqlite3_column_type(row, column) == raw.SQLITE_NULL ? null : (texts[column] ??= new RepeatedText()).Decode(raw.sqlite3_column_blob(row, column));

    /// <summary>A Guid as the log writes it: its 36-character text.</summary>
    private static bool TryReadGuid(sqlite3_stmt row, int column, out Guid value)
    {
        value = default;
        if (raw.sqlite3_column_type(row, column) != raw.SQLITE_TEXT) return false;
        var text = raw.sqlite3_column_blob(row, column);
        return Utf8Parser.TryParse(text, out value, out var consumed) && consumed == text.Length;
    }

    /// <summary>A date as the log writes it: text in <see cref="TryReadLogFormat"/>'s format.</summary>
    private static bool TryReadDateTime(sqlite3_stmt row, int column, out DateTime value)
    {
        value = default;
        return raw.sqlite3_column_type(row, column) == raw.SQLITE_TEXT && TryReadLogFormat(raw.sqlite3_column_blob(row, column), out value);
    }

    /// <summary>
    /// "yyyy-MM-dd HH:mm:ss" with up to seven fraction digits, the way the log stores dates;
    /// the kind unspecified, as EF gives it.
    /// </summary>
    internal static bool TryReadLogFormat(ReadOnlySpan<byte> text, out DateTime value)
    {
        value = default;
        if (text.Length < 19 || text.Length == 20 || text.Length > 27) return false;
        if (text[4] != '-' || text[7] != '-' || text[10] != ' ' || text[13] != ':' || text[16] != ':') return false;
        if (!Digits(text[..4], out var year) || !Digits(text[5..7], out var month) || !Digits(text[8..10], out var day)
            || !Digits(text[11..13], out var hour) || !Digits(text[14..16], out var minute) || !Digits(text[17..19], out var second))
            return false;
        var ticks = 0;
        if (text.Length > 19)
        {
            if (text[19] != '.' || !Digits(text[20..], out ticks)) return false;
            for (var scale = text.Length - 20; scale < 7; scale++) ticks *= 10;
        }
        if (month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(Math.Max(year, 1), month) || year < 1 || hour > 23 || minute > 59 || second > 59)
            return false;
        value = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Unspecified).AddTicks(ticks);
        return true;
    }

    private static bool Digits(ReadOnlySpan<byte> text, out int value) =>
        Utf8Parser.TryParse(text, out value, out var consumed) && consumed == text.Length && text[0] is >= (byte)'0' and <= (byte)'9';

    /// <summary>
    /// The statements on the entry table. A value the log itself never writes (a Guid as
    /// bytes, a date with a zone or without seconds) is read again on its own through
    /// Microsoft.Data.Sqlite, so it comes out exactly as EF would give it.
    /// </summary>
    private sealed class Table(AuditLogDbContext db)
    {
        private readonly AuditEntryTable _table = new(db);

        private string From => $"FROM {_table.Name} WHERE {_table.Column(nameof(AuditEntry.Id))}";

        public string SelectAfter() =>
            $"SELECT {string.Join(", ", Properties.Select(_table.Column))} {From} > ?1 AND {_table.Column(nameof(AuditEntry.Id))} <= ?3 ORDER BY {_table.Column(nameof(AuditEntry.Id))} LIMIT ?2";

        public T ReadAsEf<T>(SqliteConnection connection, int column, long id, Func<SqliteDataReader, T> read)
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT {_table.Column(Properties[column])} {From} = $id";
            command.Parameters.AddWithValue("$id", id);
            using var reader = command.ExecuteReader();
            if (!reader.Read()) throw new InvalidOperationException($"audit entry {id} went away while it was read");
            return read(reader);
        }
    }

    /// <summary>
    /// One column's last text: the same bytes as the row before's give the same string
    /// rather than a new one decoded from them.
    /// </summary>
    private sealed class RepeatedText
    {
        private byte[] _bytes = new byte[256];
        private int _length = -1;
        private string _text = "";

        public string Decode(ReadOnlySpan<byte> utf8)
        {
            if (_length == utf8.Length && utf8.SequenceEqual(_bytes.AsSpan(0, _length))) return _text;
            if (utf8.Length > _bytes.Length) _bytes = new byte[Math.Max(utf8.Length, _bytes.Length * 2)];
            utf8.CopyTo(_bytes);
            _length = utf8.Length;
            return _text = Encoding.UTF8.GetString(utf8);
        }
    }
}
