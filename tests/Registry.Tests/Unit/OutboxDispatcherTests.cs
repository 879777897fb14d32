using System.Collections.Concurrent;
using System.Data.Common;
using Berth.Contracts;
using Berth.Contracts.Registry;
using Berth.Data.Background;
using Berth.Data.Outbox;
using Berth.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;

namespace Berth.Registry.Tests.Unit;

/// <summary>
/// The shared outbox dispatcher on a real SQLite file: a batch's rows go out side by
/// side, a failing publish leaves its row for a retry with the rest of the batch
/// marked sent, and sent rows are purged once they are old.
/// A batch is marked sent with one statement. Fresh events go out from low-priority
/// threads, events that waited past the lag limit at normal priority.
/// On a real PostgreSQL database shared by two dispatchers, each event goes out once.
/// </summary>
public sealed class OutboxDispatcherTests : IDisposable
{
    private readonly TempDirectory _directory = new("berth-outbox");
    private readonly DbContextOptions<OutboxContext> _options;

    public OutboxDispatcherTests()
    {
        _options = new DbContextOptionsBuilder<OutboxContext>().UseSqlite($"Data Source={_directory.Combine("outbox.db")}").Options;
        using var db = new OutboxContext(_options);
        db.Database.EnsureCreated();
    }

    [Fact]
    public async Task A_failing_publish_keeps_its_row_for_a_retry_and_the_rest_of_the_batch_is_sent()
    {
        var events = Enumerable.Range(0, 5).Select(i => new TagCreated("repo", $"t{i}", "sha256:x")
            { Actor = EventActor.System, OccurredAt = DateTimeOffset.UtcNow.AddSeconds(i) }).ToList();
        await using (var db = new OutboxContext(_options))
        {
            foreach (var e in events) db.Publish(e);
            await db.SaveChangesAsync();
        }
        var publisher = new RecordingPublisher { FailOn = "t2" };
        var dispatcher = NewDispatcher(publisher);

        await Assert.ThrowsAsync<InvalidOperationException>(() => dispatcher.DispatchBatchAsync(CancellationToken.None));
        Assert.Equal(["t0", "t1", "t3", "t4"], publisher.Tags.Order());
        await using (var db = new OutboxContext(_options))
        {
            Assert.Equal(4, await db.Set<OutboxMessage>().CountAsync(m => m.SentAt != null));
            var failed = await db.Set<OutboxMessage>().SingleAsync(m => m.Id == events[2].EventId);
            Assert.Null(failed.SentAt);
            Assert.Equal(1, failed.Attempts);
        }

        publisher.FailOn = null;
        Assert.Equal(1, await dispatcher.DispatchBatchAsync(CancellationToken.None));
        Assert.Equal(["t0", "t1", "t2", "t3", "t4"], publisher.Tags.Order());
        Assert.Equal(0, await dispatcher.DispatchBatchAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_batch_is_published_side_by_side_not_one_confirm_after_another()
    {
        await using (var db = new OutboxContext(_options))
        {
            for (var i = 0; i < 8; i++)
                db.Publish(new TagCreated("repo", $"t{i}", "sha256:x") { Actor = EventActor.System, OccurredAt = DateTimeOffset.UtcNow.AddMilliseconds(i) });
            await db.SaveChangesAsync();
        }
        // Each publish waits until all eight are in flight: one at a time, the first would never be confirmed.
        var publisher = new RecordingPublisher { AllInFlightBeforeAnyConfirms = 8 };

        Assert.Equal(8, await NewDispatcher(publisher).DispatchBatchAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(8, publisher.Tags.Count);
    }

    [Fact]
    public async Task Sent_rows_older_than_an_hour_are_purged_and_unsent_ones_never()
    {
        await using (var db = new OutboxContext(_options))
        {
            db.Publish(new TagCreated("repo", "old-sent", "sha256:x") { Actor = EventActor.System });
            db.Publish(new TagCreated("repo", "recent-sent", "sha256:x") { Actor = EventActor.System });
            await db.SaveChangesAsync();
            var rows = await db.Set<OutboxMessage>().ToListAsync();
            rows.Single(r => r.Payload.Contains("old-sent")).SentAt = DateTime.UtcNow.AddHours(-2);
            rows.Single(r => r.Payload.Contains("recent-sent")).SentAt = DateTime.UtcNow.AddMinutes(-5);
            // Unsent for hours (the broker was away): must survive the purge and go out.
            db.Publish(new TagCreated("repo", "old-unsent", "sha256:x") { Actor = EventActor.System, OccurredAt = DateTimeOffset.UtcNow.AddHours(-3) });
            await db.SaveChangesAsync();
        }
        var publisher = new RecordingPublisher();

        Assert.Equal(1, await NewDispatcher(publisher).DispatchBatchAsync(CancellationToken.None));

        Assert.Equal(["old-unsent"], publisher.Tags);
        await using (var db = new OutboxContext(_options))
        {
            var left = await db.Set<OutboxMessage>().Select(m => m.Payload).ToListAsync();
            Assert.Equal(2, left.Count);
            Assert.DoesNotContain(left, p => p.Contains("old-sent"));
        }
    }

    [SkippableFact]
    public async Task Two_dispatchers_sharing_a_postgres_database_publish_each_event_once()
    {
        await using var database = await TemporaryPostgresDatabase.CreateAsync(RequiredServer.Postgres());
        var options = new DbContextOptionsBuilder<OutboxContext>().UseNpgsql(database.ConnectionString).Options;
        await using (var db = new OutboxContext(options))
        {
            await db.Database.EnsureCreatedAsync();
            for (var i = 0; i < 300; i++)
                db.Publish(new TagCreated("repo", $"t{i}", "sha256:x") { Actor = EventActor.System, OccurredAt = DateTimeOffset.UtcNow.AddMilliseconds(i) });
            await db.SaveChangesAsync();
        }
        // A publish that takes a moment keeps both dispatchers inside their batches at the same time.
        var publisher = new RecordingPublisher { PublishTime = TimeSpan.FromMilliseconds(2) };
        var dispatchers = Enumerable.Range(0, 2).Select(_ => NewDispatcher(publisher, options)).ToList();
        using var start = new Barrier(dispatchers.Count);

        var sentBy = await Task.WhenAll(dispatchers.Select(dispatcher => Task.Run(async () =>
        {
            start.SignalAndWait();
            var sent = 0;
            for (int batch; (batch = await dispatcher.DispatchBatchAsync(CancellationToken.None)) > 0;) sent += batch;
            return sent;
        })));

        Assert.Equal(300, publisher.Tags.Count);
        Assert.Equal(300, publisher.Tags.Distinct().Count());
        Assert.Equal(300, sentBy.Sum());
        await using (var db = new OutboxContext(options))
            Assert.Equal(0, await db.Set<OutboxMessage>().CountAsync(m => m.SentAt == null));
    }

    [Fact]
    public async Task A_batch_is_marked_sent_with_one_statement_and_each_attempt_is_counted()
    {
        await WriteEventsAsync(30);
        var updates = new UpdateCounter();
        var options = new DbContextOptionsBuilder<OutboxContext>(_options).AddInterceptors(updates).Options;
        var dispatcher = NewDispatcher(new RecordingPublisher(), options);

        Assert.Equal(30, await dispatcher.DispatchBatchAsync(CancellationToken.None));

        Assert.Equal(1, updates.Count);
        await using var db = new OutboxContext(_options);
        Assert.Equal(30, await db.Set<OutboxMessage>().CountAsync(m => m.SentAt != null && m.Attempts == 1));
    }

    [Fact]
    public async Task Fresh_events_go_out_at_low_priority_and_once_they_have_waited_past_the_limit_at_normal_priority()
    {
        // Three batches; the first publish outlasts the lag limit, as when a busy machine leaves no idle CPU.
        await WriteEventsAsync(250);
        var publisher = new RecordingPublisher { FirstPublishTime = OutboxDispatcher<OutboxContext>.IdlePriorityLagLimit + TimeSpan.FromMilliseconds(300) };
        var signal = new OutboxSignal();
        using var lowPriority = new LowPriorityScheduler("outbox test");
        using var dispatcher = new OutboxDispatcher<OutboxContext>(() => new OutboxContext(_options), signal, publisher,
            NullLogger<OutboxDispatcher<OutboxContext>>.Instance, lowPriority);
        await dispatcher.StartAsync(CancellationToken.None);
        try
        {
            await Eventually.TrueAsync(() => publisher.Tags.Count == 250, TimeSpan.FromSeconds(30), "the backlog was not published");
            var priorities = publisher.AtLowPriority.ToList();
            Assert.All(priorities.Take(OutboxDispatcher<OutboxContext>.BatchSize), Assert.True);
            Assert.All(priorities.Skip(OutboxDispatcher<OutboxContext>.BatchSize), Assert.False);

            // Drained: the next wake-up starts fresh, at low priority again.
            await WriteEventsAsync(3, first: 250);
            signal.Wake();
            await Eventually.TrueAsync(() => publisher.Tags.Count == 253, TimeSpan.FromSeconds(30), "the new events were not published");
            Assert.All(publisher.AtLowPriority.Skip(250), Assert.True);
            Assert.Equal(Enumerable.Range(0, 253).Select(i => $"t{i}").Order(), publisher.Tags.Order());
        }
        finally
        {
            await dispatcher.StopAsync(CancellationToken.None);
        }
    }

    private async Task WriteEventsAsync(int count, int first = 0)
    {
        await using var db = new OutboxContext(_options);
        var start = DateTimeOffset.UtcNow;
        for (var i = first; i < first + count; i++)
            db.Publish(new TagCreated("repo", $"t{i}", "sha256:x") { Actor = EventActor.System, OccurredAt = start.AddMilliseconds(i) });
        await db.SaveChangesAsync();
    }

    private OutboxDispatcher<OutboxContext> NewDispatcher(IEventPublisher publisher) => NewDispatcher(publisher, _options);

    private static OutboxDispatcher<OutboxContext> NewDispatcher(IEventPublisher publisher, DbContextOptions<OutboxContext> options) =>
        new(() => new OutboxContext(options), new OutboxSignal(), publisher, NullLogger<OutboxDispatcher<OutboxContext>>.Instance);

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }

    private sealed class RecordingPublisher : IEventPublisher
    {
        public string? FailOn { get; set; }

        public TimeSpan PublishTime { get; init; }

        /// <summary>How long the first publish takes (the others take <see cref="PublishTime"/>).</summary>
        public TimeSpan FirstPublishTime { get; init; }

        /// <summary>Concurrent: two dispatchers may publish through one recorder.</summary>
        public ConcurrentQueue<string> Tags { get; } = new();

        /// <summary>For each tag in <see cref="Tags"/>: whether it was published from a low-priority thread.</summary>
        public ConcurrentQueue<bool> AtLowPriority { get; } = new();

        /// <summary>When set, no publish completes until this many have started, as a broker confirming them together would.</summary>
        public int AllInFlightBeforeAnyConfirms { get; init; }

        private int _started;
        private readonly TaskCompletionSource _allStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task PublishAsync(IntegrationEvent integrationEvent, CancellationToken cancellationToken)
        {
            var tag = ((TagCreated)integrationEvent).Tag;
            if (tag == FailOn) throw new InvalidOperationException("broker refused");
            if (AllInFlightBeforeAnyConfirms > 0)
            {
                if (Interlocked.Increment(ref _started) == AllInFlightBeforeAnyConfirms) _allStarted.TrySetResult();
                await _allStarted.Task.WaitAsync(cancellationToken);
            }
            var lowPriority = LowPriorityScheduler.OnLowPriorityThread;
            var time = Tags.IsEmpty && FirstPublishTime > TimeSpan.Zero ? FirstPublishTime : PublishTime;
            if (time > TimeSpan.Zero) await Task.Delay(time, cancellationToken);
            AtLowPriority.Enqueue(lowPriority);
            Tags.Enqueue(tag);
        }
    }

    /// <summary>Counts the UPDATE commands a context sends.</summary>
    private sealed class UpdateCounter : DbCommandInterceptor
    {
        private int _count;

        public int Count => _count;

        public override ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData,
            InterceptionResult<int> result, CancellationToken cancellationToken = default)
        {
            if (command.CommandText.TrimStart().StartsWith("UPDATE", StringComparison.OrdinalIgnoreCase)) Interlocked.Increment(ref _count);
            return base.NonQueryExecutingAsync(command, eventData, result, cancellationToken);
        }
    }

    public sealed class OutboxContext(DbContextOptions<OutboxContext> options) : DbContext(options)
    {
        protected override void OnModelCreating(ModelBuilder model) => model.MapOutbox();
    }
}
