using System.Data.Common;
using Berth.Contracts;
using Berth.Contracts.Registry;
using Berth.Data;
using Berth.Data.Outbox;
using Berth.Registry.Data;
using Berth.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Berth.Registry.Tests.Unit;

/// <summary>
/// <see cref="ModuleDatabase{TContext}.SaveAsync"/> on a real SQLite registry database:
/// a single statement goes without a transaction of ours (WriteAsync opens one), what
/// it stages is stored, an event it publishes wakes the outbox dispatcher, and a save
/// that fails stores nothing.
/// </summary>
public sealed class ModuleDatabaseSaveTests : IDisposable
{
    private readonly TempDirectory _directory = new("berth-module-save");
    private readonly CountingTransactions _transactions = new();
    private readonly RegistryDb _registryDb;
    private readonly long _repositoryId;

    public ModuleDatabaseSaveTests()
    {
        var connectionString = $"Data Source={_directory.Combine("registry.db")}";
        using (var db = new SqliteRegistryDbContext(new DbContextOptionsBuilder<SqliteRegistryDbContext>().UseSqlite(connectionString).Options))
        {
            db.Database.Migrate();
            var repository = new RepositoryRow { Name = "library/app", CreatedAt = DateTime.UtcNow };
            db.Repositories.Add(repository);
            db.SaveChanges();
            _repositoryId = repository.Id;
        }
        var options = new DbContextOptionsBuilder<SqliteRegistryDbContext>().UseSqlite(connectionString).AddInterceptors(_transactions).Options;
        _registryDb = new RegistryDb(() => new SqliteRegistryDbContext(options), new WriteGate(serialize: true), TimeProvider.System);
    }

    [Fact]
    public async Task A_single_row_is_stored_without_an_explicit_transaction()
    {
        var id = Guid.NewGuid();

        await _registryDb.SaveAsync(db => db.UploadSessions.Add(Session(id)), CancellationToken.None);

        Assert.Equal(0, _transactions.Started);
        await using var check = _registryDb.Open();
        Assert.True(await check.UploadSessions.AnyAsync(u => u.Id == id));

        // The same write through WriteAsync runs inside a transaction it opens.
        await _registryDb.WriteAsync(db =>
        {
            db.UploadSessions.Add(Session(Guid.NewGuid()));
            return db.SaveChangesAsync(CancellationToken.None);
        }, CancellationToken.None);
        Assert.Equal(1, _transactions.Started);
    }

    [Fact]
    public async Task A_published_event_is_stored_with_the_change_and_wakes_the_dispatcher()
    {
        var id = Guid.NewGuid();
        var woken = _registryDb.Outbox.WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None);

        await _registryDb.SaveAsync(db =>
        {
            db.UploadSessions.Add(Session(id));
            db.Publish(new BlobUploaded("library/app", "sha256:" + new string('a', 64), 5) { Actor = EventActor.System });
        }, CancellationToken.None);

        await woken.WaitAsync(TimeSpan.FromSeconds(10));
        await using var check = _registryDb.Open();
        Assert.True(await check.UploadSessions.AnyAsync(u => u.Id == id));
        Assert.Equal(1, await check.Set<OutboxMessage>().CountAsync(m => m.Type == typeof(BlobUploaded).FullName));
    }

    [Fact]
    public async Task A_failed_save_stores_none_of_what_it_staged()
    {
        var existing = Guid.NewGuid();
        await _registryDb.SaveAsync(db => db.UploadSessions.Add(Session(existing)), CancellationToken.None);
        var fresh = Guid.NewGuid();

        // The second row breaks the foreign key to repositories: the whole save is refused, the first row too.
        var failure = await Assert.ThrowsAsync<DbUpdateException>(() => _registryDb.SaveAsync(db =>
        {
            db.UploadSessions.Add(Session(fresh));
            db.UploadSessions.Add(new UploadSessionRow { Id = Guid.NewGuid(), RepositoryId = 999_999, StartedAt = DateTime.UtcNow });
        }, CancellationToken.None));

        Assert.NotNull(failure.InnerException);
        await using var check = _registryDb.Open();
        Assert.False(await check.UploadSessions.AnyAsync(u => u.Id == fresh));
        Assert.True(await check.UploadSessions.AnyAsync(u => u.Id == existing));
    }

    private UploadSessionRow Session(Guid id) => new() { Id = id, RepositoryId = _repositoryId, StartedAt = DateTime.UtcNow };

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }

    /// <summary>Counts the transactions EF is asked to begin (SaveChanges's own for several statements included).</summary>
    private sealed class CountingTransactions : DbTransactionInterceptor
    {
        private int _started;

        public int Started => Volatile.Read(ref _started);

        public override ValueTask<DbTransaction> TransactionStartedAsync(DbConnection connection, TransactionEndEventData eventData, DbTransaction result,
            CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _started);
            return ValueTask.FromResult(result);
        }
    }
}
