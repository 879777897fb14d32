using System.IO.Compression;
using System.Text.Json;
using Berth.AuditLog.Data;
using Berth.AuditLog.Recording;
using Berth.AuditLog.Shipping;
using Berth.Data;
using Berth.Data.Inbox;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.AuditLog.Retention;

/// <summary>
/// Rotates old entries out: those older than <see cref="AuditLogOptions.RetentionDays"/>
/// that every sink already has are written to a gzip NDJSON archive (flushed to disk),
/// then removed, and the rotation is itself recorded as a rotate_logs entry. An entry
/// a sink is still waiting for stays, however old, so an outage never loses it.
/// </summary>
public sealed class LogRotation(
    AuditLogDb auditLogDb,
    IEnumerable<IAuditSink> sinks,
    IOptions<AuditLogOptions> options,
    TimeProvider clock,
    ILogger<LogRotation> logger) : BackgroundService
{
    private const int Page = 5000;
    private static readonly TimeSpan InboxRetention = TimeSpan.FromDays(30);
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The first rotation waits this long (or one interval, if shorter): start-up has more urgent work.</summary>
    private static readonly TimeSpan FirstRunDelay = TimeSpan.FromMinutes(1);

    private readonly SemaphoreSlim _rotating = new(1, 1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var first = options.Value.RetentionInterval < FirstRunDelay ? options.Value.RetentionInterval : FirstRunDelay;
        try { await Task.Delay(first, clock, stoppingToken); } catch (OperationCanceledException) { return; }
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (options.Value.RetentionDays > 0) await RotateAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "Audit log rotation failed; trying again in {Interval}", options.Value.RetentionInterval);
            }
            try { await Task.Delay(options.Value.RetentionInterval, clock, stoppingToken); } catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>Archives and removes what is due; returns how many entries were rotated (0: nothing due, no archive).</summary>
    public async Task<int> RotateAsync(CancellationToken cancellationToken)
    {
        // One rotation at a time, in this process and among instances sharing the database:
        // two would archive the same entries twice.
        await _rotating.WaitAsync(cancellationToken);
        try
        {
            await using var turn = await ExclusiveTurn.TakeAsync(auditLogDb, "auditlog-rotation", cancellationToken);
            return await RotateDueAsync(cancellationToken);
        }
        finally
        {
            _rotating.Release();
        }
    }

    private async Task<int> RotateDueAsync(CancellationToken cancellationToken)
    {
        var now = auditLogDb.Now();
        var cutoff = now.AddDays(-options.Value.RetentionDays);
        // The inbox only has to outlast redeliveries; it does not need the log's retention.
        var inboxCutoff = now - InboxRetention;
        await auditLogDb.WriteAsync(db => db.Set<InboxMessage>().Where(m => m.ProcessedAt < inboxCutoff).ExecuteDeleteAsync(cancellationToken), cancellationToken);
        var shippedUpTo = await ShippedByEverySinkAsync(cancellationToken);
        var cutoffTicks = cutoff.Ticks;
        await using (var db = auditLogDb.Open())
        {
            // Entries and pulls are read in turn: up to one last id, so none that commits meanwhile is deleted unarchived.
            shippedUpTo = Math.Min(shippedUpTo, await db.LastIdAsync(cancellationToken));
            if (!await db.Entries.AnyAsync(e => e.OccurredAt < cutoff && e.Id <= shippedUpTo, cancellationToken)
                && !await db.Pulls.AnyAsync(p => p.OccurredTicks < cutoffTicks && p.Id <= shippedUpTo, cancellationToken))
                return 0;
        }

        var directory = options.Value.ResolveArchiveDirectory();
        Directory.CreateDirectory(directory);
        var archive = Path.Combine(directory, $"audit-{now:yyyyMMddTHHmmssfff}Z-before-{cutoff:yyyyMMddTHHmmss}Z.ndjson.gz");
        var rotated = 0;
        var after = 0L;
        var lastArchived = 0L;
        await using (var file = new FileStream(archive, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            await using (var gzip = new GZipStream(file, CompressionLevel.Optimal, leaveOpen: true))
            await using (var writer = new StreamWriter(gzip))
            {
                while (true)
                {
                    List<AuditEntry> page;
                    await using (var db = auditLogDb.Open())
                    {
                        var entries = await db.Entries.AsNoTracking().Where(e => e.OccurredAt < cutoff && e.Id <= shippedUpTo && e.Id > after)
                            .OrderBy(e => e.Id).Take(Page).ToListAsync(cancellationToken);
                        var pulls = await PullEntryRead.ToEntriesAsync(db, db.Pulls.Where(p => p.OccurredTicks < cutoffTicks && p.Id <= shippedUpTo && p.Id > after)
                            .OrderBy(p => p.Id).Take(Page), cancellationToken);
                        page = IdOrder.Merge(entries, pulls, Page, newestFirst: false);
                    }
                    foreach (var entry in page) await writer.WriteLineAsync(JsonSerializer.Serialize(entry, Json));
                    rotated += page.Count;
                    if (page.Count > 0) lastArchived = page[^1].Id;
                    if (page.Count < Page) break;
                    after = page[^1].Id;
                }
            }
            // On disk before anything is removed from the database.
            file.Flush(flushToDisk: true);
        }

        await auditLogDb.WriteAsync(async db =>
        {
            // Only what is in the archive: an old entry recorded late, while the archive was written, waits for the next rotation.
            await db.Entries.Where(e => e.OccurredAt < cutoff && e.Id <= shippedUpTo && e.Id <= lastArchived).ExecuteDeleteAsync(cancellationToken);
            var pullsRemoved = await db.Pulls.Where(p => p.OccurredTicks < cutoffTicks && p.Id <= shippedUpTo && p.Id <= lastArchived).ExecuteDeleteAsync(cancellationToken);
            // Takes the insert lock on PostgreSQL, which removing texts pulls may be about to name needs too.
            await AuditRecorder.AppendAsync(db, [RotationEntry(now, cutoff, archive, rotated)], cancellationToken);
            if (pullsRemoved > 0) await UnusedNames.RemoveAsync(db, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
        logger.LogInformation("Rotated {Count} audit entries older than {Cutoff:u} into {Archive}", rotated, cutoff, archive);
        return rotated;
    }

    /// <summary>The highest id every configured sink has confirmed (everything, without sinks).</summary>
    private async Task<long> ShippedByEverySinkAsync(CancellationToken cancellationToken)
    {
        var names = sinks.Select(s => s.Name).ToList();
        if (names.Count == 0) return long.MaxValue;
        await using var db = auditLogDb.Open();
        var checkpoints = await db.Checkpoints.AsNoTracking().Where(c => names.Contains(c.Sink)).ToListAsync(cancellationToken);
        return checkpoints.Count < names.Count ? 0 : checkpoints.Min(c => c.LastShippedId);
    }

    private static AuditEntry RotationEntry(DateTime now, DateTime cutoff, string archive, int count) => new()
    {
        EntryId = Guid.NewGuid(),
        Kind = AuditKinds.RotateLogs,
        Performer = "system",
        PerformerKind = "system",
        OccurredAt = now,
        Metadata = JsonSerializer.Serialize(new { archive = Path.GetFileName(archive), entries = count, olderThan = cutoff }, Json),
        SourceEvent = typeof(LogRotation).FullName!,
    };
}
