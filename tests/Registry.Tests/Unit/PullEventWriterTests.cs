using System.Collections.Concurrent;
using System.Data.Common;
using System.Diagnostics.Metrics;
using System.Text.Json;
using Berth.Contracts;
using Berth.Contracts.Registry;
using Berth.Data;
using Berth.Data.Background;
using Berth.Data.Outbox;
using Berth.Registry.Data;
using Berth.Registry.Services;
using Berth.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Berth.Registry.Tests.Unit;

/// <summary>
/// The pull event writer on a real SQLite registry database: with the bus up, batches
/// go straight to it and the outbox stays empty; a publish that fails or hangs sends
/// its batch, and those of the next half minute, through the outbox. Through the
/// outbox (the bus away): a burst of more than a batch waits one gathering window, not
/// one per batch; a write whose commit reported failure is not stored twice by its
/// retry; and an outage longer than a few attempts delays the batch instead of dropping it.
/// </summary>
public sealed class PullEventWriterTests : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly TempDirectory _directory = new("berth-pullwriter");
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly FailingCommits _commits = new();
    private readonly RegistryDb _registryDb;
    private readonly RegistryMetrics _metrics;
    private readonly PullEventQueue _queue;
    private readonly LowPriorityScheduler _lowPriority = new("pull writer test");

    /// <summary>Away unless a test brings it up: most tests here are about the outbox path.</summary>
    private readonly TestBus _bus = new() { State = BusState.Away };

    public PullEventWriterTests()
    {
        var connectionString = $"Data Source={_directory.Combine("registry.db")}";
        using (var db = new SqliteRegistryDbContext(new DbContextOptionsBuilder<SqliteRegistryDbContext>().UseSqlite(connectionString).Options))
            db.Database.Migrate();
        var options = new DbContextOptionsBuilder<SqliteRegistryDbContext>().UseSqlite(connectionString).AddInterceptors(_commits).Options;
        _registryDb = new RegistryDb(() => new SqliteRegistryDbContext(options), new WriteGate(serialize: true), TimeProvider.System);
        _metrics = new RegistryMetrics(_services.GetRequiredService<IMeterFactory>());
        _queue = new PullEventQueue(_metrics);
    }

    [Fact]
    public async Task Batches_go_at_low_priority_while_the_queue_keeps_up()
    {
        _bus.State = BusState.Up;
        var pulls = Record(3 * PullEventWriter.MaxBatch + 1);

        await RunUntilAllReachTheBusAsync(pulls);

        Assert.Equal([true, true, true, true], _bus.ReceivedAtLowPriority);
    }

    [Fact]
    public async Task Past_half_a_full_queue_batches_go_at_normal_priority_until_under_a_quarter_waits()
    {
        _bus.State = BusState.Up;
        const int quarter = PullEventQueue.Capacity / 4;
        using var escalated = new CounterTotal(_services.GetRequiredService<IMeterFactory>(), "berth.registry.pull_events.escalated");
        var pulls = Record(2 * quarter + 2 * PullEventWriter.MaxBatch + 1);
        // Taking batch n leaves 2q + 2M + 1 - nM waiting (q a quarter of the queue, M a batch): the first
        // leaves more than half, and batches stay at normal priority while a quarter or more is left.
        var atNormalPriority = (quarter + 2 * PullEventWriter.MaxBatch + 1) / PullEventWriter.MaxBatch;

        await RunUntilAllReachTheBusAsync(pulls);

        var lowPriority = _bus.ReceivedAtLowPriority;
        Assert.Equal(Enumerable.Repeat(false, atNormalPriority), lowPriority.Take(atNormalPriority));
        Assert.True(lowPriority.Count > atNormalPriority);
        Assert.All(lowPriority.Skip(atNormalPriority), Assert.True);
        Assert.Equal(pulls.Select(p => p.EventId), _bus.Received.SelectMany(b => b.Pulls).Select(p => p.EventId));
        Assert.Equal(atNormalPriority * PullEventWriter.MaxBatch, escalated.Total);
    }

    [Fact]
    public async Task With_the_bus_up_batches_go_straight_to_it_and_the_outbox_stays_empty()
    {
        _bus.State = BusState.Up;
        var pulls = Record(2 * PullEventWriter.MaxBatch + 1);

        await RunUntilAllReachTheBusAsync(pulls);

        Assert.Equal(pulls.Select(p => p.EventId), _bus.Received.SelectMany(b => b.Pulls).Select(p => p.EventId));
        Assert.Equal(3, _bus.Received.Count);
        Assert.Equal(0, await OutboxRowsAsync());
    }

    [Fact]
    public async Task A_failed_publish_sends_its_batch_and_the_next_half_minute_through_the_outbox_then_the_bus_again()
    {
        _bus.State = BusState.Away;
        var clock = new ManualClock();
        using var writer = NewWriter(clock);
        await writer.StartAsync(CancellationToken.None);

        var first = Record(5);
        Assert.True(await EventuallyAsync(() => Task.FromResult(clock.TimersSet == 1)), "the writer never started gathering");
        clock.Elapse();
        Assert.Equal(first.Select(p => p.EventId).Order(), (await StoredPullsAsync(first.Count)).Select(p => p.EventId).Order());
        Assert.Equal(1, _bus.Attempts);

        // Within the spell the bus is not tried, even though it is back.
        _bus.State = BusState.Up;
        var second = Record(5);
        Assert.True(await EventuallyAsync(() => Task.FromResult(clock.TimersSet == 2)), "the writer never gathered the second batch");
        clock.Elapse();
        Assert.Equal(first.Count + second.Count, (await StoredPullsAsync(first.Count + second.Count)).Count);
        Assert.Equal(1, _bus.Attempts);

        clock.Advance(PullEventWriter.OutboxSpell + TimeSpan.FromSeconds(1));
        var third = Record(5);
        Assert.True(await EventuallyAsync(() => Task.FromResult(clock.TimersSet == 3)), "the writer never gathered the third batch");
        clock.Elapse();
        Assert.True(await EventuallyAsync(() => Task.FromResult(_bus.Received.Count == 1)), "after the spell the batch did not go to the bus");
        await writer.StopAsync(CancellationToken.None);

        Assert.Equal(third.Select(p => p.EventId), _bus.Received.Single().Pulls.Select(p => p.EventId));
        Assert.Equal(2, await OutboxRowsAsync());
    }

    [Fact]
    public async Task A_publish_that_hangs_past_the_timeout_sends_its_batch_through_the_outbox()
    {
        _bus.State = BusState.Hangs;
        var pulls = Record(3);
        List<ManifestPulled> stored = [];

        await RunFirstWindowAsync(new ManualClock(), async () => stored = await StoredPullsAsync(pulls.Count));

        Assert.Equal(pulls.Select(p => p.EventId).Order(), stored.Select(p => p.EventId).Order());
        Assert.Equal(1, _bus.Attempts);
        Assert.Empty(_bus.Received);
    }

    [Fact]
    public async Task A_burst_of_more_than_a_batch_waits_one_window_not_one_per_batch()
    {
        var clock = new ManualClock();
        var pulls = Record(2 * PullEventWriter.MaxBatch + 1);
        List<ManifestPulled> stored = [];

        // The only window that ever ends: the batches after a full one must not wait for another.
        await RunFirstWindowAsync(clock, async () => stored = await StoredPullsAsync(pulls.Count));

        Assert.Equal(pulls.Select(p => p.EventId).Order(), stored.Select(p => p.EventId).Order());
        Assert.Equal(3, await OutboxRowsAsync());
        Assert.Equal(1, clock.TimersSet);
    }

    [Fact]
    public async Task A_write_whose_commit_reported_failure_is_not_stored_twice()
    {
        _commits.FailAfterCommit = 1;
        var pulls = Record(5);
        using var writer = NewWriter(TimeProvider.System);
        await writer.StartAsync(CancellationToken.None);

        // The write that committed but reported failure, then its retry.
        Assert.True(await EventuallyAsync(() => Task.FromResult(_commits.Committed >= 2)), "the write was not retried");
        await writer.StopAsync(CancellationToken.None);

        Assert.Equal(1, await OutboxRowsAsync());
        Assert.Equal(pulls.Select(p => p.EventId).Order(), (await StoredPullsAsync(pulls.Count)).Select(p => p.EventId).Order());
    }

    [Fact]
    public async Task The_same_batch_written_twice_is_stored_once()
    {
        var batch = new ManifestsPulled([NewPull(0), NewPull(1)]) { Actor = EventActor.System };

        await PullEventWriter.WriteOnceAsync(_registryDb, batch, CancellationToken.None);
        await PullEventWriter.WriteOnceAsync(_registryDb, batch, CancellationToken.None);

        await using var db = _registryDb.Open();
        Assert.Equal(batch.EventId, (await db.Set<OutboxMessage>().SingleAsync()).Id);
    }

    [Fact]
    public async Task A_batch_outlives_an_outage_longer_than_a_few_attempts()
    {
        _commits.FailBeforeCommit = 6;
        var clock = new ManualClock();
        var pulls = Record(10);
        using var writer = NewWriter(clock);
        await writer.StartAsync(CancellationToken.None);

        // Each elapse ends the gathering window or one backoff wait.
        Assert.True(await EventuallyAsync(() =>
        {
            clock.Elapse();
            return Task.FromResult(_commits.Committed > 0);
        }), "the batch was never written");
        await writer.StopAsync(CancellationToken.None);

        Assert.Equal(0, _commits.FailBeforeCommit);
        Assert.Equal(1, await OutboxRowsAsync());
        Assert.Equal(pulls.Select(p => p.EventId).Order(), (await StoredPullsAsync(pulls.Count)).Select(p => p.EventId).Order());
    }

    /// <summary>Runs a writer's first gathering window until every one of <paramref name="pulls"/> reached the bus.</summary>
    private Task RunUntilAllReachTheBusAsync(List<ManifestPulled> pulls) =>
        RunFirstWindowAsync(new ManualClock(), async () =>
            Assert.True(await EventuallyAsync(() => Task.FromResult(_bus.Received.Sum(b => b.Pulls.Count) == pulls.Count)), "not every pull reached the bus"));

    /// <summary>Starts a writer on <paramref name="clock"/>, ends its first gathering window, waits for <paramref name="until"/>, and stops it.</summary>
    private async Task RunFirstWindowAsync(ManualClock clock, Func<Task> until)
    {
        using var writer = NewWriter(clock);
        await writer.StartAsync(CancellationToken.None);
        Assert.True(await EventuallyAsync(() => Task.FromResult(clock.TimersSet == 1)), "the writer never started gathering");
        clock.Elapse();
        await until();
        await writer.StopAsync(CancellationToken.None);
    }

    private PullEventWriter NewWriter(TimeProvider clock) =>
        new(_queue, _registryDb, _bus, _lowPriority, _metrics, clock, NullLogger<PullEventWriter>.Instance);

    private static ManifestPulled NewPull(int i) =>
        new("pulls/app", "sha256:" + new string('a', 64), "application/vnd.oci.image.manifest.v1+json", $"t{i}") { Actor = EventActor.System };

    private List<ManifestPulled> Record(int count)
    {
        var pulls = Enumerable.Range(0, count).Select(NewPull).ToList();
        foreach (var pulled in pulls) _queue.Record(pulled);
        return pulls;
    }

    private async Task<int> OutboxRowsAsync()
    {
        await using var db = _registryDb.Open();
        return await db.Set<OutboxMessage>().CountAsync();
    }

    /// <summary>The pulls in the outbox once there are <paramref name="count"/> of them, or what there is after ten seconds.</summary>
    private async Task<List<ManifestPulled>> StoredPullsAsync(int count)
    {
        List<ManifestPulled> stored = [];
        await EventuallyAsync(async () =>
        {
            await using var db = _registryDb.Open();
            var payloads = await db.Set<OutboxMessage>().Select(m => m.Payload).ToListAsync();
            stored = [.. payloads.SelectMany(p => JsonSerializer.Deserialize<ManifestsPulled>(p, Json)!.Pulls)];
            return stored.Count >= count;
        });
        return stored;
    }

    private static async Task<bool> EventuallyAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) return false;
            await Task.Delay(20);
        }
        return true;
    }

    public void Dispose()
    {
        _lowPriority.Dispose();
        _metrics.Dispose();
        _services.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }

    /// <summary>Makes commits fail: before they happen (the database is away), or after (the commit went through but the client heard an error).</summary>
    private sealed class FailingCommits : DbTransactionInterceptor
    {
        private int _committed;

        public int FailBeforeCommit { get; set; }

        public int FailAfterCommit { get; set; }

        public int Committed => Volatile.Read(ref _committed);

        public override ValueTask<InterceptionResult> TransactionCommittingAsync(DbTransaction transaction, TransactionEventData eventData,
            InterceptionResult result, CancellationToken cancellationToken = default)
        {
            if (FailBeforeCommit > 0)
            {
                FailBeforeCommit--;
                throw new InvalidOperationException("the database is failing over");
            }
            return ValueTask.FromResult(result);
        }

        public override Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _committed);
            if (FailAfterCommit > 0)
            {
                FailAfterCommit--;
                throw new InvalidOperationException("the connection broke while the commit was acknowledged");
            }
            return Task.CompletedTask;
        }
    }

    private enum BusState { Up, Away, Hangs }

    /// <summary>A bus that takes events, refuses them, or never answers until the publish is cancelled.</summary>
    private sealed class TestBus : IEventPublisher
    {
        private readonly ConcurrentQueue<ManifestsPulled> _received = new();
        private readonly ConcurrentQueue<bool> _receivedAtLowPriority = new();
        private int _attempts;

        public volatile BusState State;

        public int Attempts => Volatile.Read(ref _attempts);

        public List<ManifestsPulled> Received => [.. _received];

        /// <summary>For each batch received, whether it was published from a low-priority thread.</summary>
        public List<bool> ReceivedAtLowPriority => [.. _receivedAtLowPriority];

        public async Task PublishAsync(IntegrationEvent integrationEvent, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _attempts);
            switch (State)
            {
                case BusState.Away:
                    throw new InvalidOperationException("the broker is unreachable");
                case BusState.Hangs:
                    await Task.Delay(Timeout.Infinite, cancellationToken);
                    break;
                default:
                    _receivedAtLowPriority.Enqueue(LowPriorityScheduler.OnLowPriorityThread);
                    _received.Enqueue((ManifestsPulled)integrationEvent);
                    break;
            }
        }
    }

    /// <summary>A clock whose timers fire only when the test says so, counting how many were set; its time moves only when told to.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private readonly ConcurrentQueue<Action> _pending = new();
        private readonly DateTimeOffset _start = DateTimeOffset.UtcNow;
        private long _advancedTicks;
        private int _timersSet;

        public override DateTimeOffset GetUtcNow() => _start.AddTicks(Interlocked.Read(ref _advancedTicks));

        public void Advance(TimeSpan by) => Interlocked.Add(ref _advancedTicks, by.Ticks);

        public int TimersSet => Volatile.Read(ref _timersSet);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            Interlocked.Increment(ref _timersSet);
            _pending.Enqueue(() => callback(state));
            return new UnusedTimer();
        }

        /// <summary>Fires the timers set so far; those their callbacks set wait for the next call.</summary>
        public void Elapse()
        {
            for (var due = _pending.Count; due > 0 && _pending.TryDequeue(out var fire); due--) fire();
        }

        private sealed class UnusedTimer : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => false;

            public void Dispose()
            {
            }

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}
