using Berth.AuditLog.Recording;
using Berth.Contracts.Registry;
using Berth.Data;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using SQLitePCL;

namespace Berth.AuditLog.Data;

/// <summary>
/// Records pulls in the compact pull table (<see cref="PullEntry"/>), inside the caller's
/// write transaction: the texts a batch names are looked up (or added) once for the batch,
/// the batch takes a block of ids from the entry table's sequence, and each pull becomes a
/// row of numbers. A pull whose id is already recorded is skipped.
/// </summary>
internal static class PullEntryInsert
{
    /// <summary>Both providers read these names as written: no quoting rules differ between them for these.</summary>
    private const string EntryTable = "audit_entries";

    /// <summary>The pull table's columns, in the order the statements here and <see cref="PullEntryRead"/> bind and read them.</summary>
    internal const string Columns =
        "\"Id\", \"EntryId\", \"OccurredTicks\", \"NamespaceId\", \"RepositoryId\", \"PerformerId\", \"PerformerKindId\", " +
        "\"AddressId\", \"UserAgentId\", \"DigestId\", \"MediaTypeId\", \"TagId\", \"RequestId\"";

    /// <summary>Inserts <paramref name="pulls"/>; returns how many were new.</summary>
    public static async Task<int> InsertNewAsync(AuditLogDbContext db, IReadOnlyList<ManifestPulled> pulls, CancellationToken cancellationToken)
    {
        if (pulls.Count == 0) return 0;
        var rows = pulls.Select(PullRow.Of).ToArray();
        var texts = rows.SelectMany(r => r.Texts()).OfType<string>().Distinct(StringComparer.Ordinal).ToArray();
        return db.Database.IsNpgsql()
            ? await InsertIntoPostgresAsync(db, rows, texts, cancellationToken)
            : InsertIntoSqlite(db, rows, texts, cancellationToken);
    }

    /// <summary>
    /// SQLite: statements prepared once and bound by position, as for entries (<see cref="AuditEntryInsert"/>).
    /// Ids come from <c>sqlite_sequence</c>, where SQLite keeps the entry table's last id: raising
    /// it by the batch's size reserves the block, and the next entry is numbered after it.
    /// </summary>
    private static int InsertIntoSqlite(AuditLogDbContext db, PullRow[] rows, string[] texts, CancellationToken cancellationToken)
    {
        var connection = (SqliteConnection)db.Database.GetDbConnection();
        var handle = connection.Handle ?? throw new InvalidOperationException("the audit log's SQLite connection is not open");
        var ids = SqliteNameIds(handle, texts);
        var first = SqliteReserveIds(handle, rows.Length);
        SqliteRow.Check(raw.sqlite3_prepare_v2(handle, $"INSERT OR IGNORE INTO audit_pulls ({Columns}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)", out var insert), handle);
        using (insert)
        {
            var inserted = 0;
            Span<byte> entryId = stackalloc byte[16];
            for (var i = 0; i < rows.Length; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var row = rows[i];
                row.Pull.EventId.TryWriteBytes(entryId, bigEndian: true, out _);
                SqliteRow.Check(raw.sqlite3_bind_int64(insert, 1, first + i), handle);
                SqliteRow.Check(raw.sqlite3_bind_blob(insert, 2, entryId), handle);
                SqliteRow.Check(raw.sqlite3_bind_int64(insert, 3, row.OccurredTicks), handle);
                var column = 4;
                foreach (var text in row.Texts())
                    SqliteRow.Check(text is null ? raw.sqlite3_bind_null(insert, column++) : raw.sqlite3_bind_int64(insert, column++, ids[text]), handle);
                SqliteRow.Bind(insert, handle, column, (object?)row.Actor.RequestId ?? DBNull.Value);
                if (SqliteRow.Run(insert, handle)) inserted++;
            }
            return inserted;
        }
    }

    private static Dictionary<string, int> SqliteNameIds(sqlite3 handle, string[] texts)
    {
        var ids = new Dictionary<string, int>(texts.Length, StringComparer.Ordinal);
        SqliteRow.Check(raw.sqlite3_prepare_v2(handle, "SELECT \"Id\" FROM audit_names WHERE \"Name\" = ?1", out var select), handle);
        using (select)
        {
            SqliteRow.Check(raw.sqlite3_prepare_v2(handle, "INSERT INTO audit_names (\"Name\") VALUES (?1)", out var insert), handle);
            using (insert)
            {
                foreach (var text in texts)
                {
                    SqliteRow.Bind(select, handle, 1, text);
                    var rc = raw.sqlite3_step(select);
                    var found = rc == raw.SQLITE_ROW ? raw.sqlite3_column_int(select, 0) : (int?)null;
                    raw.sqlite3_reset(select);
                    if (found is null && rc != raw.SQLITE_DONE) SqliteRow.Check(rc, handle);
                    if (found is null)
                    {
                        SqliteRow.Bind(insert, handle, 1, text);
                        SqliteRow.Run(insert, handle);
                        found = checked((int)raw.sqlite3_last_insert_rowid(handle));
                    }
                    ids[text] = found.Value;
                }
            }
        }
        return ids;
    }

    /// <summary>Reserves <paramref name="count"/> ids after every id the entry table or the pull table has used; returns the first.</summary>
    private static long SqliteReserveIds(sqlite3 handle, int count)
    {
        long Scalar(string sql)
        {
            SqliteRow.Check(raw.sqlite3_prepare_v2(handle, sql, out var statement), handle);
            using (statement)
            {
                SqliteRow.Check(raw.sqlite3_bind_int64(statement, 1, count), handle);
                var rc = raw.sqlite3_step(statement);
                if (rc == raw.SQLITE_ROW) return raw.sqlite3_column_int64(statement, 0);
                if (rc != raw.SQLITE_DONE) SqliteRow.Check(rc, handle);
                return raw.sqlite3_changes(handle);
            }
        }
        // The entry table's row appears with its first entry; until then pulls start it.
        if (Scalar($"UPDATE sqlite_sequence SET seq = seq + ?1 WHERE name = '{EntryTable}'") == 0)
            Scalar($"INSERT INTO sqlite_sequence (name, seq) VALUES ('{EntryTable}', ?1 + (SELECT coalesce(max(\"Id\"), 0) FROM audit_pulls))");
        return Scalar($"SELECT seq - ?1 + 1 FROM sqlite_sequence WHERE name = '{EntryTable}'");
    }

    /// <summary>
    /// PostgreSQL: three round trips a batch, whatever its size: the texts (added where new,
    /// then their ids), a block of ids from the entry table's sequence, and the rows, each
    /// column an array that <c>unnest</c> turns back into rows. Writers hold the log's insert
    /// lock (<see cref="AuditRecorder"/>), so no other takes ids from the sequence meanwhile.
    /// </summary>
    private static async Task<int> InsertIntoPostgresAsync(AuditLogDbContext db, PullRow[] rows, string[] texts, CancellationToken cancellationToken)
    {
        var ids = new Dictionary<string, int>(texts.Length, StringComparer.Ordinal);
        await using (var names = RawCommand.Create(db,
            // Only the texts not there yet: PostgreSQL takes an id from the sequence for every row
            // it tries to insert, conflicting or not, and a busy log repeats the same texts all day.
            "INSERT INTO audit_names (\"Name\") SELECT t FROM unnest(@texts) AS t " +
            "WHERE NOT EXISTS (SELECT 1 FROM audit_names AS n WHERE n.\"Name\" = t) ON CONFLICT (\"Name\") DO NOTHING;" +
            "SELECT \"Id\", \"Name\" FROM audit_names WHERE \"Name\" = ANY(@texts)", ("texts", texts)))
        await using (var reader = await names.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken)) ids[reader.GetString(1)] = reader.GetInt32(0);
        }

        long first;
        await using (var reserve = RawCommand.Create(db,
            $"SELECT setval(pg_get_serial_sequence('{EntryTable}', 'Id'), nextval(pg_get_serial_sequence('{EntryTable}', 'Id')) + @count - 1) - @count + 1",
            ("count", (long)rows.Length)))
            first = Convert.ToInt64(await reserve.ExecuteScalarAsync(cancellationToken));

        int?[] Ids(Func<PullRow, string?> text) => [.. rows.Select(r => text(r) is { } t ? ids[t] : (int?)null)];
        await using var insert = RawCommand.Create(db,
            $"INSERT INTO audit_pulls ({Columns}) " +
            "SELECT * FROM unnest(@id, @entryId, @ticks, @ns, @repo, @performer, @performerKind, @address, @userAgent, @digest, @mediaType, @tag, @request) " +
            "ON CONFLICT (\"EntryId\") DO NOTHING",
            ("id", rows.Select((_, i) => first + i).ToArray()),
            ("entryId", rows.Select(r => r.Pull.EventId).ToArray()),
            // Whole microseconds, what PostgreSQL keeps of an entry's time: a pull reads back as its entry would.
            ("ticks", rows.Select(r => r.OccurredTicks - r.OccurredTicks % 10).ToArray()),
            ("ns", Ids(r => r.Namespace)),
            ("repo", Ids(r => r.Pull.Repository)),
            ("performer", Ids(r => r.Actor.Performer)),
            ("performerKind", Ids(r => r.Actor.PerformerKind)),
            ("address", Ids(r => r.Actor.Address)),
            ("userAgent", Ids(r => r.Actor.UserAgent)),
            ("digest", Ids(r => r.Pull.Digest)),
            ("mediaType", Ids(r => r.Pull.MediaType)),
            ("tag", Ids(r => r.Pull.Tag)),
            ("request", rows.Select(r => r.Actor.RequestId).ToArray()));
        return await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>A pull and the column values it is recorded with.</summary>
    private sealed record PullRow(ManifestPulled Pull, ActorColumns Actor, string Namespace, long OccurredTicks)
    {
        public static PullRow Of(ManifestPulled pull) =>
            new(pull, ActorColumns.Of(pull.Actor), EventMapper.NamespaceOf(pull.Repository), pull.OccurredAt.UtcTicks);

        /// <summary>The texts kept by id, in the order of their columns (NamespaceId to TagId).</summary>
        public IEnumerable<string?> Texts()
        {
            yield return Namespace;
            yield return Pull.Repository;
            yield return Actor.Performer;
            yield return Actor.PerformerKind;
            yield return Actor.Address;
            yield return Actor.UserAgent;
            yield return Pull.Digest;
            yield return Pull.MediaType;
            yield return Pull.Tag;
        }
    }
}
