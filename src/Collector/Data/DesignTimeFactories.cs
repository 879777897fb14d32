using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Berth.Collector.Data;

/// <summary>Lets `dotnet ef migrations add` build each provider's context without a running host.</summary>
public sealed class SqliteCollectorDesignTimeFactory : IDesignTimeDbContextFactory<SqliteCollectorDbContext>
{
    public SqliteCollectorDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteCollectorDbContext>().UseSqlite("Data Source=design.db").Options);
}

public sealed class PostgresCollectorDesignTimeFactory : IDesignTimeDbContextFactory<PostgresCollectorDbContext>
{
    public PostgresCollectorDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresCollectorDbContext>().UseNpgsql("Host=localhost;Database=design").Options);
}
