using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Text.Json;
using Berth.Contracts;
using Berth.Data.Background;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Berth.Data.Outbox;

/// <summary>
/// Publishes a module's outbox rows, oldest first, and marks them sent. It wakes
/// when a write commits and polls as a fallback, so an
/// event whose publish failed (or whose process died) is sent again later:
/// delivery is at least once. On PostgreSQL several instances share the
/// database, so each claims its batch (row locks that the others skip) and no
/// two publish the same rows; a SQLite file has one process.
/// Batches run on the <see cref="LowPriorityScheduler"/> when there is one, in the
/// CPU time serving leaves: under a burst of writes the dispatcher runs less often
/// and takes more rows a batch, so each event costs fewer database statements.
/// Once events have waited <see cref="IdlePriorityLagLimit"/>, batches go at normal priority.
/// </summary>
public sealed class OutboxDispatcher<TContext>(
    Func<TContext> openContext,
    OutboxSignal signal,
    IEventPublisher publisher,
    ILogger<OutboxDispatcher<TContext>> logger,
    LowPriorityScheduler? lowPriority = null) : BackgroundService
    where TContext : DbContext
{
    /// <summary>
    /// A row can be a batch of up to 5,000 pulls (about 380 KB; 2 MB in the full-record form earlier
    /// versions wrote): a batch of rows must fit comfortably in memory when a backlog of them drains
    /// after a bus outage (32 full-record rows are about 64 MB, as 100 rows were when a row held
    /// 1,000 pulls). Bursts of pushes leave about 10 rows waiting a claim in the distributed push
    /// bench, so this rarely splits a claim.
    /// </summary>
    public const int BatchSize = 32;

    /// <summary>
    /// How long events may wait for idle CPU: a machine that stays busy delays them by
    /// about this much (plus a batch already started at low priority), not for as long as it stays busy.
    /// </summary>
    public static readonly TimeSpan IdlePriorityLagLimit = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan KeepSent = TimeSpan.FromHours(1);
    private static readonly TimeSpan PurgeEvery = TimeSpan.FromMinutes(1);
    private DateTime _lastPurge = DateTime.MinValue;
    private static readonly IReadOnlyDictionary<string, Type> EventTypes = IntegrationEventTypes.ByName;
    private static readonly string[] KnownTypes = [.. EventTypes.Keys];

    /// <summary>When the dispatcher woke for rows it has not yet drained (a timestamp); 0 when drained.</summary>
    private long _wokeAt;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            if (_wokeAt == 0) _wokeAt = Stopwatch.GetTimestamp();
            try
            {
                while (await DispatchNextBatchAsync(stoppingToken) == BatchSize) { }
                _wokeAt = 0;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // Includes a publish that timed out (a cancellation that is not ours): the broker is away, not the host.
                logger.LogWarning("Outbox dispatch failed ({Error}); retrying on the next wake-up", e.Message);
            }
            try
            {
                await signal.WaitAsync(Poll, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>At low priority while events are fresh; on the thread pool once they have waited too long.</summary>
    private Task<int> DispatchNextBatchAsync(CancellationToken cancellationToken)
    {
        if (lowPriority is null) return DispatchBatchAsync(cancellationToken);
        // Task.Run, not a direct call: after a low-priority batch this loop may resume on that batch's thread.
        return Stopwatch.GetElapsedTime(_wokeAt) > IdlePriorityLagLimit
            ? Task.Run(() => DispatchBatchAsync(cancellationToken), CancellationToken.None)
            : lowPriority.RunAsync(() => DispatchBatchAsync(cancellationToken), cancellationToken);
    }

    /// <summary>
    /// Sends one batch and marks what was sent in one statement; returns how many rows
    /// it sent. The batch's publishes go out side by side rather than each waiting for
    /// the one before it to be confirmed: the broker writes and confirms them together,
    /// and a consumer receives them together and can record them in one transaction.
    /// That gives up the order within a batch, which consumers never had: they handle
    /// several messages at once and retry a failed one in place. A publish that fails
    /// leaves its row for later (with its attempt counted) and the rest marked sent,
    /// then fails the batch. A crash between publish and marking sends those rows again
    /// (at least once; consumers de-duplicate).
    /// On PostgreSQL the batch is claimed in a transaction that lasts until the
    /// marking: another dispatcher on the same database skips those rows.
    /// </summary>
    public async Task<int> DispatchBatchAsync(CancellationToken cancellationToken)
    {
        await using var db = openContext();
        await using var claim = db.Database.IsNpgsql() ? await db.Database.BeginTransactionAsync(cancellationToken) : null;
        var batch = await (claim is null ? Unsent(db) : Claim(db)).AsNoTracking().ToListAsync(cancellationToken);
        var publishes = batch.Select(message => (message.Id, Publish: PublishAsync(message, cancellationToken))).ToList();
        var sent = new List<Guid>(batch.Count);
        var failed = new List<Guid>();
        Exception? firstFailure = null;
        foreach (var (id, publish) in publishes)
        {
            try
            {
                await publish;
                sent.Add(id);
            }
            catch (Exception e)
            {
                failed.Add(id);
                firstFailure ??= e;
            }
        }
        // Keep what was sent and the failed rows' attempt counts, even when a publish failed or we are stopping.
        await MarkAttemptsAsync(db, sent, failed);
        if (claim is not null) await claim.CommitAsync(CancellationToken.None);
        if (firstFailure is not null) ExceptionDispatchInfo.Throw(firstFailure);
        await PurgeSentAsync(db, cancellationToken);
        return sent.Count;
    }

    /// <summary>A row's event, published; a row that cannot be read fails like a publish that failed.</summary>
    private async Task PublishAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        var integrationEvent = (IntegrationEvent)JsonSerializer.Deserialize(message.Payload, EventTypes[message.Type], OutboxModel.Json)!;
        await publisher.PublishAsync(integrationEvent, cancellationToken);
    }

    /// <summary>
    /// Every attempt counts; the rows that went out are sent. A statement for each list, not one a row,
    /// written out rather than through EF's ExecuteUpdate, whose setter lambdas and id list EF evaluated
    /// anew on every call: marking took about 1.5 ms of CPU a batch that way in the distributed 1 MiB
    /// push (perf), and 0.7 ms written out, the round trip included.
    /// </summary>
    private static async Task MarkAttemptsAsync(TContext db, List<Guid> sent, List<Guid> failed)
    {
        if (sent.Count > 0) await CountAttemptAsync(db, sent, sentAt: DateTime.UtcNow);
        if (failed.Count > 0) await CountAttemptAsync(db, failed, sentAt: null);
    }

    /// <summary>Adds an attempt to each row of <paramref name="ids"/>, and marks them sent at <paramref name="sentAt"/> unless it is null.</summary>
    private static Task<int> CountAttemptAsync(TContext db, List<Guid> ids, DateTime? sentAt)
    {
        // EF maps each value as it maps the column (on SQLite a Guid is text), so the ids match the stored ones.
        List<object> parameters = [];
        var set = "\"Attempts\" = \"Attempts\" + 1";
        if (sentAt is { } at)
        {
            parameters.Add(at);
            set = "\"SentAt\" = {0}, " + set;
        }
        var rows = AnyOf.Condition(db.Database, ids, parameters);
        // Only placeholders and names go into the text; the values travel as parameters.
        var sql = $"UPDATE {OutboxModel.Table} SET {set} WHERE \"Id\" {rows}";
        return db.Database.ExecuteSqlRawAsync(sql, parameters, CancellationToken.None);
    }

    // Rows of types this build does not know (written by a newer version) are left for that version, not retried here.
    private static IQueryable<OutboxMessage> Unsent(TContext db) =>
        db.Set<OutboxMessage>().Where(m => m.SentAt == null && KnownTypes.Contains(m.Type))
            .OrderBy(m => m.OccurredAt).ThenBy(m => m.Id).Take(BatchSize);

    /// <summary>
    /// <see cref="Unsent"/>, locked for this transaction: rows another dispatcher holds are
    /// skipped, and a row it sent meanwhile no longer qualifies when re-checked under the lock.
    /// </summary>
    private static IQueryable<OutboxMessage> Claim(TContext db) =>
        db.Set<OutboxMessage>().FromSql($"""
            SELECT * FROM outbox_messages
            WHERE "SentAt" IS NULL AND "Type" = ANY({KnownTypes})
            ORDER BY "OccurredAt", "Id"
            LIMIT {BatchSize}
            FOR UPDATE SKIP LOCKED
            """);

    /// <summary>Sent rows are only history: drop those older than <see cref="KeepSent"/>, at most once a minute.</summary>
    private async Task PurgeSentAsync(TContext db, CancellationToken cancellationToken)
    {
        var now = DateTime.UtcNow;
        if (now - _lastPurge < PurgeEvery) return;
        _lastPurge = now;
        var cutoff = now - KeepSent;
        var purged = await db.Set<OutboxMessage>().Where(m => m.SentAt != null && m.SentAt < cutoff).ExecuteDeleteAsync(cancellationToken);
        if (purged > 0) logger.LogDebug("Purged {Count} sent outbox rows", purged);
    }
}
