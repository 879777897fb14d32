using System.Data.Common;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;
using SQLitePCL;

namespace Berth.AuditLog.Data;

/// <summary>
/// Inserts entries with one prepared statement reused for the whole batch, skipping any
/// whose entry id is already recorded, instead of a look-up and a tracked insert per
/// entry: what kept recording thousands of pulls cheap while pulls were entries. Column
/// names, quoting and value conversions come from the EF model, so the rows read back
/// exactly as EF wrote them, and the ids the database gave are set on the entries, as
/// EF would set them.
/// </summary>
internal static class AuditEntryInsert
{
    /// <summary>
    /// PostgreSQL takes many rows a statement well (and stays under its 65535-parameter
    /// limit), with <c>ON CONFLICT … DO NOTHING RETURNING</c> giving the new ids.
    /// </summary>
    private const int PostgresRowsPerStatement = 200;

    /// <summary>Inserts inside the context's current transaction and sets the new rows' ids; returns how many rows were new.</summary>
    public static async Task<int> InsertNewAsync(AuditLogDbContext db, IReadOnlyList<AuditEntry> entries, CancellationToken cancellationToken)
    {
        if (entries.Count == 0) return 0;
        var table = new InsertTable(db);
        return db.Database.IsNpgsql()
            ? await InsertReturningAsync(db, table, entries, cancellationToken)
            : InsertOneByOne(db, table, entries, cancellationToken);
    }

    /// <summary>
    /// SQLite: a row a statement, <c>INSERT OR IGNORE</c>, the id read from the connection.
    /// Neither an upsert clause nor <c>RETURNING</c> (which SQLite runs as a trigger) nor
    /// several rows: any of them makes SQLite copy every page the statement touches to a
    /// statement journal first, so that it could undo the statement alone. For a row and
    /// its index entries that is tens of kilobytes a row, written to a temporary file.
    /// The statement is SQLite's own, prepared once for the batch and bound by position
    /// (<see cref="SqliteRow"/>): Microsoft.Data.Sqlite's command would look each parameter
    /// up by name, transcode each string and make a data reader, for every row.
    /// SQLite runs one statement at a time on the connection: synchronous calls are the fast path.
    /// </summary>
    private static int InsertOneByOne(AuditLogDbContext db, InsertTable table, IReadOnlyList<AuditEntry> entries, CancellationToken cancellationToken)
    {
        var connection = (SqliteConnection)db.Database.GetDbConnection();
        var handle = connection.Handle ?? throw new InvalidOperationException("the audit log's SQLite connection is not open");
        SqliteRow.Check(raw.sqlite3_prepare_v2(handle, table.Statement("INSERT OR IGNORE INTO", rowCount: 1, returning: false), out var statement), handle);
        using (statement)
        {
            var inserted = 0;
            foreach (var entry in entries)
            {
                cancellationToken.ThrowIfCancellationRequested();
                for (var i = 0; i < table.Columns.Length; i++) SqliteRow.Bind(statement, handle, i + 1, table.Value(i, entry));
                if (!SqliteRow.Run(statement, handle)) continue;
                entry.Id = raw.sqlite3_last_insert_rowid(handle);
                inserted++;
            }
            return inserted;
        }
    }

    /// <summary>PostgreSQL: <see cref="PostgresRowsPerStatement"/> rows a statement, <c>ON CONFLICT DO NOTHING RETURNING</c> the new ids.</summary>
    private static async Task<int> InsertReturningAsync(AuditLogDbContext db, InsertTable table, IReadOnlyList<AuditEntry> entries, CancellationToken cancellationToken)
    {
        var connection = db.Database.GetDbConnection();
        var transaction = db.Database.CurrentTransaction?.GetDbTransaction();
        var inserted = 0;
        DbCommand? command = null;
        try
        {
            foreach (var rows in entries.Chunk(PostgresRowsPerStatement))
            {
                // One command for every full chunk: the same text, so the statement is prepared once.
                if (command is null || command.Parameters.Count != rows.Length * table.Columns.Length)
                {
                    if (command is not null) await command.DisposeAsync();
                    command = connection.CreateCommand();
                    command.Transaction = transaction;
                    command.CommandText = table.Statement("INSERT INTO", rows.Length, returning: true);
                }
                command.Parameters.Clear();
                for (var row = 0; row < rows.Length; row++)
                    for (var column = 0; column < table.Columns.Length; column++)
                        command.Parameters.Add(table.Parameter(command, column, rows[row], row * table.Columns.Length + column));
                // Matched by entry id: PostgreSQL does not promise RETURNING rows in VALUES order.
                var byEntryId = new Dictionary<Guid, AuditEntry>(rows.Length);
                foreach (var entry in rows) byEntryId.TryAdd(entry.EntryId, entry);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    byEntryId[reader.GetFieldValue<Guid>(0)].Id = reader.GetInt64(1);
                    inserted++;
                }
            }
        }
        finally
        {
            if (command is not null) await command.DisposeAsync();
        }
        return inserted;
    }

    /// <summary>The audit entry table as the EF model maps it: its name, the columns an insert sets, and how values convert.</summary>
    private sealed class InsertTable
    {
        private readonly AuditEntryTable _table;
        private readonly IProperty _entryId;
        private readonly IProperty _id;
        private readonly RelationalTypeMapping[] _mappings;
        private readonly IClrPropertyGetter[] _getters;

        public InsertTable(AuditLogDbContext db)
        {
            _table = new AuditEntryTable(db);
            var entityType = _table.EntityType;
            var key = entityType.FindPrimaryKey()!.Properties;
            _id = key.Single();
            Columns = entityType.GetProperties().Where(p => !key.Contains(p)).ToArray();
            // Looked up once: a model annotation look-up per value would cost more than binding it.
            _mappings = [.. Columns.Select(c => c.GetRelationalTypeMapping())];
            _getters = [.. Columns.Select(c => c.GetGetter())];
            _entryId = entityType.FindProperty(nameof(AuditEntry.EntryId))!;
        }

        /// <summary>Every column but the generated id.</summary>
        public IProperty[] Columns { get; }

        public string Statement(string insert, int rowCount, bool returning)
        {
            var text = new StringBuilder(insert).Append(' ')
                .Append(_table.Name)
                .Append(" (")
                .AppendJoin(", ", Columns.Select(_table.Column))
                .Append(") VALUES ");
            for (var row = 0; row < rowCount; row++)
            {
                text.Append(row == 0 ? "(" : ", (");
                for (var column = 0; column < Columns.Length; column++)
                    text.Append(column == 0 ? "" : ", ").Append(ParameterName(row * Columns.Length + column));
                text.Append(')');
            }
            if (!returning) return text.ToString();
            var entryIdColumn = _table.Column(_entryId);
            return text.Append(" ON CONFLICT (").Append(entryIdColumn).Append(") DO NOTHING RETURNING ")
                .Append(entryIdColumn).Append(", ").Append(_table.Column(_id)).ToString();
        }

        /// <summary>
        /// A parameter for column <paramref name="column"/>, made by the property's own type mapping, which
        /// applies EF's conversion (a Guid as text on SQLite, …) to <paramref name="entry"/>'s value if given.
        /// It is named as the statement names it (the <paramref name="index"/>th parameter, column's own
        /// index if not given), prefix included: Microsoft.Data.Sqlite looks a name up as given and,
        /// failing that, once for each prefix SQLite allows.
        /// </summary>
        public DbParameter Parameter(DbCommand command, int column, AuditEntry? entry, int? index = null) =>
            _mappings[column].CreateParameter(command, ParameterName(index ?? column), entry is null ? null : _getters[column].GetClrValue(entry), Columns[column].IsNullable);

        /// <summary>
        /// Column <paramref name="column"/>'s value for <paramref name="entry"/> as the database stores it (EF's value
        /// converter applied), for a parameter made once and given a new value for each row.
        /// </summary>
        public object Value(int column, AuditEntry entry)
        {
            var value = _getters[column].GetClrValue(entry);
            var converter = _mappings[column].Converter;
            return (converter is null || value is null ? value : converter.ConvertToProvider(value)) ?? DBNull.Value;
        }

        private string ParameterName(int index) => _table.ParameterName($"p{index}");
    }
}
