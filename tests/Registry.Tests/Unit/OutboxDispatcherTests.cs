using Berth.Contracts;
using Berth.Contracts.Registry;
using Berth.Data.Outbox;
using Berth.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;

namespace Berth.Registry.Tests.Unit;

/// <summary>
/// The shared outbox dispatcher on a real SQLite file: rows go out in the order
/// they were written, a failing publish stops the batch with what went before it
/// marked sent and the rest retried, and sent rows are purged once they are old.
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
    public async Task A_failing_publish_keeps_what_was_sent_and_retries_the_rest_in_order()
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
        Assert.Equal(["t0", "t1"], publisher.Tags);
        await using (var db = new OutboxContext(_options))
        {
            Assert.Equal(2, await db.Set<OutboxMessage>().CountAsync(m => m.SentAt != null));
            Assert.Equal(1, (await db.Set<OutboxMessage>().SingleAsync(m => m.Id == events[2].EventId)).Attempts);
        }

        publisher.FailOn = null;
        Assert.Equal(3, await dispatcher.DispatchBatchAsync(CancellationToken.None));
        Assert.Equal(["t0", "t1", "t2", "t3", "t4"], publisher.Tags);
        Assert.Equal(0, await dispatcher.DispatchBatchAsync(CancellationToken.None));
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

    private OutboxDispatcher<OutboxContext> NewDispatcher(IEventPublisher publisher) =>
        new(() => new OutboxContext(_options), new OutboxSignal(), publisher, NullLogger<OutboxDispatcher<OutboxContext>>.Instance);

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }

    private sealed class RecordingPublisher : IEventPublisher
    {
        public string? FailOn { get; set; }

        public List<string> Tags { get; } = [];

        public Task PublishAsync(IntegrationEvent integrationEvent, CancellationToken cancellationToken)
        {
            var tag = ((TagCreated)integrationEvent).Tag;
            if (tag == FailOn) throw new InvalidOperationException("broker refused");
            Tags.Add(tag);
            return Task.CompletedTask;
        }
    }

    public sealed class OutboxContext(DbContextOptions<OutboxContext> options) : DbContext(options)
    {
        protected override void OnModelCreating(ModelBuilder model) => model.MapOutbox();
    }
}
