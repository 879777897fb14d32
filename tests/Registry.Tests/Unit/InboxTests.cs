using Berth.Data;
using Berth.Data.Inbox;
using Berth.TestSupport;
using Microsoft.EntityFrameworkCore;

namespace Berth.Registry.Tests.Unit;

/// <summary>
/// The shared inbox on a real database: a redelivered or racing event is handled once,
/// a failed one again. The same cases run on SQLite and on PostgreSQL, whose claim is a
/// statement of its own (<see cref="InboxOnPostgresTests"/>).
/// </summary>
public abstract class InboxTests : IAsyncLifetime
{
    private ModuleDatabase<CounterContext>? _database;

    /// <summary>Options for a fresh, empty database, and whether its writes are serialized as that provider's are in Berth.</summary>
    protected abstract Task<(DbContextOptions<CounterContext> Options, bool SerializedWrites)> CreateDatabaseAsync();

    /// <summary>The database under test, created on first use (a test of a missing server skips there).</summary>
    protected async Task<ModuleDatabase<CounterContext>> DatabaseAsync()
    {
        if (_database is not null) return _database;
        var (options, serializedWrites) = await CreateDatabaseAsync();
        await using (var db = new CounterContext(options)) await db.Database.EnsureCreatedAsync();
        return _database = new ModuleDatabase<CounterContext>(() => new CounterContext(options), new WriteGate(serializedWrites), TimeProvider.System);
    }

    [SkippableFact]
    public async Task A_redelivered_event_is_handled_once()
    {
        var database = await DatabaseAsync();
        var id = Guid.NewGuid();
        Assert.True(await database.ProcessOnceAsync("counter", id, Increment, CancellationToken.None));
        Assert.False(await database.ProcessOnceAsync("counter", id, Increment, CancellationToken.None));
        // Another consumer of the same event handles it for itself.
        Assert.True(await database.ProcessOnceAsync("other", id, Increment, CancellationToken.None));
        Assert.Equal(2, await CountAsync());
    }

    [SkippableFact]
    public async Task Racing_deliveries_of_one_event_are_handled_once()
    {
        var database = await DatabaseAsync();
        var id = Guid.NewGuid();
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => database.ProcessOnceAsync("counter", id, Increment, CancellationToken.None))));
        Assert.Single(results, ran => ran);
        Assert.Equal(1, await CountAsync());
    }

    [SkippableFact]
    public async Task A_failed_handler_records_nothing_and_the_redelivery_handles_it()
    {
        var database = await DatabaseAsync();
        var id = Guid.NewGuid();
        await Assert.ThrowsAsync<InvalidOperationException>(() => database.ProcessOnceAsync("counter", id, async db =>
        {
            await Increment(db);
            throw new InvalidOperationException("handler failed");
        }, CancellationToken.None));
        Assert.Equal(0, await CountAsync());
        Assert.True(await database.ProcessOnceAsync("counter", id, Increment, CancellationToken.None));
        Assert.Equal(1, await CountAsync());
    }

    [SkippableFact]
    public async Task Events_handled_together_skip_those_already_handled_and_count_a_repeated_id_once()
    {
        var database = await DatabaseAsync();
        var (done, first, second) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        Assert.True(await database.ProcessOnceAsync("counter", done, Increment, CancellationToken.None));
        var fresh = await database.ProcessOnceAsync("counter", [done, first, second, first], async (db, ids) =>
        {
            foreach (var _ in ids) await Increment(db);
            return ids;
        }, CancellationToken.None);
        Assert.Equal(new[] { first, second }.Order(), fresh.Order());
        Assert.Equal(3, await CountAsync());
        // All three are now in the inbox: handled together again, none is fresh.
        var again = await database.ProcessOnceAsync("counter", [done, first, second], (db, ids) => Task.FromResult(ids.Count), CancellationToken.None);
        Assert.Equal(0, again);
    }

    protected static Task Increment(CounterContext db)
    {
        db.Handled.Add(new HandledRow());
        return Task.CompletedTask;
    }

    protected async Task<int> CountAsync()
    {
        await using var db = (await DatabaseAsync()).Open();
        return await db.Handled.CountAsync();
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public abstract Task DisposeAsync();

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

public sealed class InboxOnSqliteTests : InboxTests
{
    private readonly TempDirectory _directory = new("berth-inbox");

    protected override Task<(DbContextOptions<CounterContext>, bool)> CreateDatabaseAsync() =>
        Task.FromResult((new DbContextOptionsBuilder<CounterContext>().UseSqlite($"Data Source={_directory.Combine("inbox.db")}").Options, true));

    public override Task DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _directory.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>
/// On PostgreSQL writers are not serialized, so racing deliveries really race, and a
/// consumer can have its transactions take an ordering lock with the claim.
/// </summary>
public sealed class InboxOnPostgresTests : InboxTests
{
    private const long OrderLock = 0x496e626f_78546573;
    private TemporaryPostgresDatabase? _server;

    protected override async Task<(DbContextOptions<CounterContext>, bool)> CreateDatabaseAsync()
    {
        _server = await TemporaryPostgresDatabase.CreateAsync(RequiredServer.Postgres());
        return (new DbContextOptionsBuilder<CounterContext>().UseNpgsql(ModuleDatabaseSetup.WithPoolDefaults(_server.ConnectionString)).Options, false);
    }

    [SkippableFact]
    public async Task A_writer_taking_the_order_lock_waits_for_the_one_holding_it_to_commit()
    {
        var race = await RaceWhileTheFirstHoldsItsTransaction(secondLock: OrderLock);

        Assert.False(race.SecondStartedMeanwhile, "the second transaction began handling while the first held the order lock");
        Assert.Equal(1, race.SecondFresh);
        Assert.Equal(2, await CountAsync());
    }

    [SkippableFact]
    public async Task A_writer_without_the_order_lock_does_not_wait()
    {
        // The same race without the lock: the second finishes while the first still holds its
        // transaction, so the check above is one that can fail.
        var race = await RaceWhileTheFirstHoldsItsTransaction(secondLock: null);

        Assert.True(race.SecondFinishedMeanwhile);
        Assert.Equal(1, race.SecondFresh);
        Assert.Equal(2, await CountAsync());
    }

    /// <summary>What a second transaction did while a first one held the order lock, and how many events it claimed.</summary>
    private sealed record Race(bool SecondStartedMeanwhile, bool SecondFinishedMeanwhile, int SecondFresh);

    /// <summary>
    /// Opens a transaction that takes the order lock and holds it, starts a second on
    /// another event and gives it a second to run, then lets the first commit.
    /// </summary>
    private async Task<Race> RaceWhileTheFirstHoldsItsTransaction(long? secondLock)
    {
        var database = await DatabaseAsync();
        var firstHandling = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = database.ProcessOnceAsync("counter", [Guid.NewGuid()], OrderLock, async (db, fresh) =>
        {
            await Increment(db);
            firstHandling.SetResult();
            await releaseFirst.Task;
            return fresh.Count;
        }, CancellationToken.None);
        await firstHandling.Task.WaitAsync(TimeSpan.FromSeconds(30));

        var second = database.ProcessOnceAsync("counter", [Guid.NewGuid()], secondLock, async (db, fresh) =>
        {
            secondStarted.SetResult();
            await Increment(db);
            return fresh.Count;
        }, CancellationToken.None);
        await Task.WhenAny(second, Task.Delay(TimeSpan.FromSeconds(1)));
        var (started, finished) = (secondStarted.Task.IsCompleted, second.IsCompleted);

        releaseFirst.SetResult();
        Assert.Equal(1, await first.WaitAsync(TimeSpan.FromSeconds(30)));
        return new Race(started, finished, await second.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    public override async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }
}
