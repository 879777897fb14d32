using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Berth.AuditLog.Data;

/// <summary>Lets `dotnet ef migrations add` build each provider's context without a running host.</summary>
public sealed class SqliteAuditLogDesignTimeFactory : IDesignTimeDbContextFactory<SqliteAuditLogDbContext>
{
    public SqliteAuditLogDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteAuditLogDbContext>().UseSqlite("Data Source=design.db").Options);
}

public sealed class PostgresAuditLogDesignTimeFactory : IDesignTimeDbContextFactory<PostgresAuditLogDbContext>
{
    public PostgresAuditLogDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresAuditLogDbContext>().UseNpgsql("Host=localhost;Database=design").Options);
}
