using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace Berth.AuditLog.Data;

/// <summary>
/// The audit entry table as the EF model maps it, its names delimited for SQL: what the
/// statements that go around EF (<see cref="AuditEntryInsert"/>, <see cref="AuditEntryRead"/>) are written with.
/// </summary>
internal sealed class AuditEntryTable
{
    private readonly ISqlGenerationHelper _sql;
    private readonly StoreObjectIdentifier _table;

    public AuditEntryTable(AuditLogDbContext db)
    {
        EntityType = db.Model.FindEntityType(typeof(AuditEntry))!;
        _table = StoreObjectIdentifier.Table(EntityType.GetTableName()!, EntityType.GetSchema());
        _sql = db.GetService<ISqlGenerationHelper>();
        Name = _sql.DelimitIdentifier(_table.Name, _table.Schema);
    }

    public IEntityType EntityType { get; }

    /// <summary>The table's name, schema included, delimited.</summary>
    public string Name { get; }

    /// <summary><paramref name="property"/>'s column, delimited.</summary>
    public string Column(IProperty property) => _sql.DelimitIdentifier(property.GetColumnName(_table)!);

    /// <summary>The column of the property named <paramref name="property"/>, delimited.</summary>
    public string Column(string property) => Column(EntityType.FindProperty(property)!);

    /// <summary>A parameter's name as the provider writes it in SQL.</summary>
    public string ParameterName(string name) => _sql.GenerateParameterName(name);
}
