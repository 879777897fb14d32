using Berth.AuditLog.Data;
using Berth.AuditLog.Recording;
using Berth.Contracts.Registry;
using Berth.TestSupport;
using Microsoft.EntityFrameworkCore;

namespace Berth.AuditLog.Tests;

/// <summary>
/// A migrated SQLite audit log database of its own, which no server records into: what is
/// in it is exactly what a test put there.
/// </summary>
internal sealed class StandaloneAuditLog : IAsyncDisposable
{
    private readonly TempDirectory _directory;

    private StandaloneAuditLog(TempDirectory directory, SqliteAuditLogDbContext db)
    {
        _directory = directory;
        Db = db;
    }

    public SqliteAuditLogDbContext Db { get; }

    public static async Task<StandaloneAuditLog> CreateAsync(string name)
    {
        var directory = new TempDirectory(name);
        var options = new DbContextOptionsBuilder<SqliteAuditLogDbContext>().UseSqlite($"Data Source={directory.Combine("log.db")};Pooling=false").Options;
        var db = new SqliteAuditLogDbContext(options);
        await db.Database.MigrateAsync();
        return new StandaloneAuditLog(directory, db);
    }

    /// <summary>Records entries and pulls as the recorder does, in a transaction of their own; returns how many were new.</summary>
    public async Task<int> AppendAsync(IReadOnlyList<AuditEntry> entries, IReadOnlyList<ManifestPulled> pulls)
    {
        await using var transaction = await Db.Database.BeginTransactionAsync();
        var added = await AuditRecorder.AppendAsync(Db, entries, pulls, CancellationToken.None);
        await transaction.CommitAsync();
        return added;
    }

    public async ValueTask DisposeAsync()
    {
        await Db.DisposeAsync();
        _directory.Dispose();
    }
}
