using System.Data.Common;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace Berth.AuditLog.Data;

/// <summary>
/// Inserts entries several rows to a statement, skipping any whose entry id is
/// already recorded (<c>ON CONFLICT … DO NOTHING</c>, on SQLite and PostgreSQL
/// alike), with one prepared statement reused for the whole batch, instead of a
/// look-up and a tracked insert per entry: several times faster for a batch of a
/// thousand pulls on SQLite, which is what keeps recording pulls cheap next to
/// serving them. Column names, quoting and value conversions come
/// from the EF model, so the rows read back exactly as EF wrote them; the ids the
/// database gave come back (<c>RETURNING</c>) into the entries, as EF would set them.
/// </summary>
internal static class AuditEntryInsert
{
    /// <summary>
    /// Rows a statement. SQLite looks a named parameter up by scanning the statement's
    /// parameters, so binding costs the square of their number: small statements,
    /// prepared once and run again, are fastest there. PostgreSQL takes many rows a
    /// statement well (and stays under its 65535-parameter limit).
    /// </summary>
    private const int SqliteRowsPerStatement = 4;
    private const int PostgresRowsPerStatement = 200;

    /// <summary>Inserts inside the context's current transaction and sets the new rows' ids; returns how many rows were new.</summary>
    public static async Task<int> InsertNewAsync(AuditLogDbContext db, IReadOnlyList<AuditEntry> entries, CancellationToken cancellationToken)
    {
        var entityType = db.Model.FindEntityType(typeof(AuditEntry))!;
        var table = StoreObjectIdentifier.Table(entityType.GetTableName()!, entityType.GetSchema());
        var key = entityType.FindPrimaryKey()!.Properties;
        var columns = entityType.GetProperties().Where(p => !key.Contains(p)).ToArray();
        var entryId = entityType.FindProperty(nameof(AuditEntry.EntryId))!;
        var sql = db.GetService<ISqlGenerationHelper>();

        var connection = db.Database.GetDbConnection();
        var transaction = db.Database.CurrentTransaction?.GetDbTransaction();
        var id = key.Single();
        var rowsPerStatement = db.Database.IsNpgsql() ? PostgresRowsPerStatement : SqliteRowsPerStatement;
        var inserted = 0;
        DbCommand? command = null;
        try
        {
            foreach (var rows in entries.Chunk(rowsPerStatement))
            {
                // One command for every full chunk: the same text, so the statement is prepared once.
                if (command is null || command.Parameters.Count != rows.Length * columns.Length)
                {
                    if (command is not null) await command.DisposeAsync();
                    command = connection.CreateCommand();
                    command.Transaction = transaction;
                    command.CommandText = Statement(sql, table, columns, entryId, id, rows.Length);
                }
                command.Parameters.Clear();
                for (var row = 0; row < rows.Length; row++)
                    for (var column = 0; column < columns.Length; column++)
                        command.Parameters.Add(Parameter(command, columns[column], $"p{row * columns.Length + column}", rows[row]));
                // Matched by entry id: neither provider promises RETURNING rows in VALUES order.
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

    private static string Statement(ISqlGenerationHelper sql, StoreObjectIdentifier table, IProperty[] columns, IProperty entryId, IProperty id, int rowCount)
    {
        var text = new StringBuilder("INSERT INTO ")
            .Append(sql.DelimitIdentifier(table.Name, table.Schema))
            .Append(" (")
            .AppendJoin(", ", columns.Select(c => sql.DelimitIdentifier(c.GetColumnName(table)!)))
            .Append(") VALUES ");
        for (var row = 0; row < rowCount; row++)
        {
            text.Append(row == 0 ? "(" : ", (");
            for (var column = 0; column < columns.Length; column++)
                text.Append(column == 0 ? "" : ", ").Append(sql.GenerateParameterName($"p{row * columns.Length + column}"));
            text.Append(')');
        }
        var entryIdColumn = sql.DelimitIdentifier(entryId.GetColumnName(table)!);
        return text.Append(" ON CONFLICT (").Append(entryIdColumn).Append(") DO NOTHING RETURNING ")
            .Append(entryIdColumn).Append(", ").Append(sql.DelimitIdentifier(id.GetColumnName(table)!)).ToString();
    }

    /// <summary>A parameter made by the property's own type mapping, which applies EF's conversion (a Guid as text on SQLite, …).</summary>
    private static DbParameter Parameter(DbCommand command, IProperty property, string name, AuditEntry entry) =>
        property.GetRelationalTypeMapping().CreateParameter(command, name, property.GetGetter().GetClrValue(entry), property.IsNullable);
}
