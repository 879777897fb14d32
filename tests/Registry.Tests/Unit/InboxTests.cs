using Berth.Data;
using Berth.Data.Inbox;
using Berth.TestSupport;
using Microsoft.EntityFrameworkCore;

namespace Berth.Registry.Tests.Unit;

/// <summary>The shared inbox on a real SQLite file: a redelivered or racing event is handled once, a failed one again.</summary>
public sealed class InboxTests : IDisposable
{
    private readonly TempDirectory _directory = new("berth-inbox");
    private readonly ModuleDatabase<CounterContext> _database;

    public InboxTests()
    {
        var options = new DbContextOptionsBuilder<CounterContext>().UseSqlite($"Data Source={_directory.Combine("inbox.db")}").Options;
        using (var db = new CounterContext(options)) db.Database.EnsureCreated();
        _database = new ModuleDatabase<CounterContext>(() => new CounterContext(options), new WriteGate(serialize: true), TimeProvider.System);
    }

    [Fact]
    public async Task A_redelivered_event_is_handled_once()
    {
        var id = Guid.NewGuid();
        Assert.True(await _database.ProcessOnceAsync("counter", id, Increment, CancellationToken.None));
        Assert.False(await _database.ProcessOnceAsync("counter", id, Increment, CancellationToken.None));
        // Another consumer of the same event handles it for itself.
        Assert.True(await _database.ProcessOnceAsync("other", id, Increment, CancellationToken.None));
        Assert.Equal(2, await CountAsync());
    }

    [Fact]
    public async Task Racing_deliveries_of_one_event_are_handled_once()
    {
        var id = Guid.NewGuid();
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => _database.ProcessOnceAsync("counter", id, Increment, CancellationToken.None))));
        Assert.Single(results, ran => ran);
        Assert.Equal(1, await CountAsync());
    }

    [Fact]
    public async Task A_failed_handler_records_nothing_and_the_redelivery_handles_it()
    {
        var id = Guid.NewGuid();
        await Assert.ThrowsAsync<InvalidOperationException>(() => _database.ProcessOnceAsync("counter", id, async db =>
        {
            await Increment(db);
            throw new InvalidOperationException("handler failed");
        }, CancellationToken.None));
        Assert.Equal(0, await CountAsync());
        Assert.True(await _database.ProcessOnceAsync("counter", id, Increment, CancellationToken.None));
        Assert.Equal(1, await CountAsync());
    }

    [Fact]
    public async Task Events_handled_together_skip_those_already_handled_and_count_a_repeated_id_once()
    {
        var (done, first, second) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        Assert.True(await _database.ProcessOnceAsync("counter", done, Increment, CancellationToken.None));
        var fresh = await _database.ProcessOnceAsync("counter", [done, first, second, first], async (db, ids) =>
        {
            foreach (var _ in ids) await Increment(db);
            return ids;
        }, CancellationToken.None);
        Assert.Equal(new[] { first, second }.Order(), fresh.Order());
        Assert.Equal(3, await CountAsync());
        // All three are now in the inbox: handled together again, none is fresh.
        var again = await _database.ProcessOnceAsync("counter", [done, first, second], (db, ids) => Task.FromResult(ids.Count), CancellationToken.None);
        Assert.Equal(0, again);
    }

    private static Task Increment(CounterContext db)
    {
        db.Handled.Add(new HandledRow());
        return Task.CompletedTask;
    }

    private async Task<int> CountAsync()
    {
        await using var db = _database.Open();
        return await db.Handled.CountAsync();
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }

    public sealed class HandledRow
    {
        public long Id { get; set; }
    }

    public sealed class CounterContext(DbContextOptions<CounterContext> options) : DbContext(options)
    {
        public DbSet<HandledRow> Handled => Set<HandledRow>();

        protected override void OnModelCreating(ModelBuilder model) => model.MapInbox();
    }
}
