using Berth.AuditLog.Recording;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using SQLitePCL;

namespace Berth.AuditLog.Data;

/// <summary>
/// Reads pulls from the compact pull table as the entries they stand for: the same
/// <see cref="AuditEntry"/>, field for field, that the pull would have been as an entry
/// of its own, metadata and source event included.
/// </summary>
internal static class PullEntryRead
{
    /// <summary>The pulls <paramref name="pulls"/> selects, in its order, as entries.</summary>
    public static async Task<List<AuditEntry>> ToEntriesAsync(AuditLogDbContext db, IQueryable<PullEntry> pulls, CancellationToken cancellationToken) =>
        await ToEntriesAsync(db, await pulls.AsNoTracking().ToListAsync(cancellationToken), cancellationToken);

    /// <summary>
    /// Up to <paramref name="limit"/> pulls with ids above <paramref name="afterId"/> and up to <paramref name="upTo"/>, lowest first, as entries:
    /// what a sink takes next. On SQLite the rows are read with SQLite's own statement, as
    /// <see cref="AuditEntryRead"/> reads entries: sinks read every pull the log records.
    /// </summary>
    public static async Task<List<AuditEntry>> AfterAsync(AuditLogDbContext db, long afterId, long upTo, int limit, CancellationToken cancellationToken)
    {
        if (!db.Database.IsSqlite())
            return await ToEntriesAsync(db, db.Pulls.Where(p => p.Id > afterId && p.Id <= upTo).OrderBy(p => p.Id).Take(limit), cancellationToken);
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            return await ToEntriesAsync(db, ReadFromSqlite(db, afterId, upTo, limit, cancellationToken), cancellationToken);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private static List<PullEntry> ReadFromSqlite(AuditLogDbContext db, long afterId, long upTo, int limit, CancellationToken cancellationToken)
    {
        var handle = ((SqliteConnection)db.Database.GetDbConnection()).Handle ?? throw new InvalidOperationException("the audit log's SQLite connection is not open");
        var sql = $"SELECT {PullEntryInsert.Columns} FROM audit_pulls WHERE \"Id\" > ?1 AND \"Id\" <= ?3 ORDER BY \"Id\" LIMIT ?2";
        SqliteRow.Check(raw.sqlite3_prepare_v2(handle, sql, out var statement), handle);
        using (statement)
        {
            SqliteRow.Check(raw.sqlite3_bind_int64(statement, 1, afterId), handle);
            SqliteRow.Check(raw.sqlite3_bind_int64(statement, 2, limit), handle);
            SqliteRow.Check(raw.sqlite3_bind_int64(statement, 3, upTo), handle);
            var rows = new List<PullEntry>(Math.Min(limit, 4096));
            int rc;
            while ((rc = raw.sqlite3_step(statement)) == raw.SQLITE_ROW)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int? OptionalId(int column) => raw.sqlite3_column_type(statement, column) == raw.SQLITE_NULL ? null : raw.sqlite3_column_int(statement, column);
                rows.Add(new PullEntry
                {
                    Id = raw.sqlite3_column_int64(statement, 0),
                    EntryId = new Guid(raw.sqlite3_column_blob(statement, 1), bigEndian: true),
                    OccurredTicks = raw.sqlite3_column_int64(statement, 2),
                    NamespaceId = raw.sqlite3_column_int(statement, 3),
                    RepositoryId = raw.sqlite3_column_int(statement, 4),
                    PerformerId = raw.sqlite3_column_int(statement, 5),
                    PerformerKindId = raw.sqlite3_column_int(statement, 6),
                    AddressId = OptionalId(7),
                    UserAgentId = OptionalId(8),
                    DigestId = raw.sqlite3_column_int(statement, 9),
                    MediaTypeId = raw.sqlite3_column_int(statement, 10),
                    TagId = OptionalId(11),
                    RequestId = raw.sqlite3_column_type(statement, 12) == raw.SQLITE_NULL ? null : raw.sqlite3_column_text(statement, 12).utf8_to_string(),
                });
            }
            if (rc != raw.SQLITE_DONE) SqliteRow.Check(rc, handle);
            return rows;
        }
    }

    private static async Task<List<AuditEntry>> ToEntriesAsync(AuditLogDbContext db, List<PullEntry> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0) return [];
        var ids = rows.SelectMany(NameIds).Distinct().ToList();
        // One parameter holding every id: a parameter an id (EF's default) costs SQLite a
        // look-up by name over all the others for each, and a batch may name thousands.
        var names = await db.Names.AsNoTracking().Where(n => EF.Parameter(ids).Contains(n.Id)).ToDictionaryAsync(n => n.Id, n => n.Name, cancellationToken);
        // As the provider gives an entry's time: SQLite keeps no zone, PostgreSQL's timestamptz is UTC.
        var kind = db.Database.IsNpgsql() ? DateTimeKind.Utc : DateTimeKind.Unspecified;
        // Most pulls of a page are of the same few images: their metadata is written once each.
        var metadata = new Dictionary<(int, int, int, int?), string>();
        return [.. rows.Select(row => ToEntry(row, names, metadata, kind))];
    }

    private static IEnumerable<int> NameIds(PullEntry row)
    {
        yield return row.NamespaceId;
        yield return row.RepositoryId;
        yield return row.PerformerId;
        yield return row.PerformerKindId;
        if (row.AddressId is { } address) yield return address;
        if (row.UserAgentId is { } userAgent) yield return userAgent;
        yield return row.DigestId;
        yield return row.MediaTypeId;
        if (row.TagId is { } tag) yield return tag;
    }

    private static AuditEntry ToEntry(PullEntry row, Dictionary<int, string> names, Dictionary<(int, int, int, int?), string> metadata, DateTimeKind kind)
    {
        string Name(int id) => names.TryGetValue(id, out var name) ? name
            : throw new InvalidOperationException($"audit pull {row.Id} refers to name {id}, which the log does not hold");
        var repository = Name(row.RepositoryId);
        var image = (row.RepositoryId, row.DigestId, row.MediaTypeId, row.TagId);
        if (!metadata.TryGetValue(image, out var pulled))
            metadata[image] = pulled = EventMapper.PullMetadata(repository, Name(row.DigestId), Name(row.MediaTypeId), row.TagId is { } tag ? Name(tag) : null);
        return new AuditEntry
        {
            Id = row.Id,
            EntryId = row.EntryId,
            Kind = AuditKinds.PullRepo,
            Namespace = Name(row.NamespaceId),
            Repository = repository,
            Performer = Name(row.PerformerId),
            PerformerKind = Name(row.PerformerKindId),
            Address = row.AddressId is { } address ? Name(address) : null,
            UserAgent = row.UserAgentId is { } userAgent ? Name(userAgent) : null,
            RequestId = row.RequestId,
            OccurredAt = new DateTime(row.OccurredTicks, kind),
            Metadata = pulled,
            SourceEvent = EventMapper.PullSourceEvent,
        };
    }
}
