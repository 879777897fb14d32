using Berth.AuditLog.Data;
using Berth.AuditLog.Shipping;
using Berth.Contracts;
using Berth.Contracts.Registry;
using Berth.Data;
using Berth.Data.Inbox;
using Berth.Data.Outbox;
using Microsoft.EntityFrameworkCore;

namespace Berth.AuditLog.Recording;

/// <summary>
/// Records every integration event as audit entries, exactly once: the event id
/// goes into the inbox in the same transaction as its entries, so a redelivery
/// adds nothing (and an entry id is unique too, for a batch of pulls written twice).
/// Pulls go to their own compact table (<see cref="PullEntry"/>) with ids from the entry
/// table's sequence. Entries and pulls get their ids in commit order, which is the order
/// sinks ship them in: on PostgreSQL writers take a transaction lock before inserting,
/// so an id is never committed after a higher one a sink may already have passed.
/// </summary>
public sealed class AuditRecorder(
    AuditLogDb auditLogDb, AuditLogInitializer schema, EventMapper mapper, ShippingSignal shipping, AuditLogMetrics metrics) : IEventHandler
{
    public const string ConsumerName = EventSubscribers.AuditLog;

    /// <summary>Any constant: the advisory lock that orders audit inserts on PostgreSQL.</summary>
    private const long InsertOrderLock = 0x42657274_41756469;

    /// <summary>
    /// How many entries a commit may take: a batch of pulls from the registry holds up to
    /// 5,000, and goes alone; smaller events share a commit up to this many.
    /// </summary>
    private const int MaxEntriesPerCommit = 5000;

    /// <summary>
    /// Events delivered side by side share a transaction: on PostgreSQL each commit costs the
    /// inbox claim (with the insert lock), the inserts and COMMIT, a round trip each, whatever it holds.
    /// </summary>
    private readonly GroupCommit<Mapped> _commits = new(mapped => mapped.Weight, MaxEntriesPerCommit);

    public string Name => ConsumerName;

    public async Task HandleAsync(IntegrationEvent integrationEvent, CancellationToken cancellationToken)
    {
        await schema.Ready.WaitAsync(cancellationToken);
        // Pulls go to their own compact table; every other event is an entry.
        var pulls = mapper.Pulls(integrationEvent);
        var entries = pulls is null ? mapper.Map(integrationEvent).ToList() : [];
        await _commits.RunAsync(new Mapped(integrationEvent.EventId, entries, pulls ?? []), RecordAsync, cancellationToken);
    }

    /// <summary>Records each event not recorded yet, once, in one transaction.</summary>
    private async Task RecordAsync(IReadOnlyList<Mapped> events, CancellationToken cancellationToken)
    {
        // The insert lock comes with the inbox claim, in its round trip.
        var recorded = await auditLogDb.ProcessOnceAsync(ConsumerName, [.. events.Select(e => e.EventId)], InsertOrderLock, (db, fresh) =>
        {
            // A redelivery can arrive beside the first delivery: each event id counts once.
            var taken = events.Where(e => fresh.Contains(e.EventId)).DistinctBy(e => e.EventId).ToList();
            return InsertAsync(db, [.. taken.SelectMany(e => e.Entries)], [.. taken.SelectMany(e => e.Pulls)], cancellationToken);
        }, cancellationToken);
        if (recorded == 0) return;
        metrics.Recorded(recorded);
        shipping.Wake();
    }

    /// <summary>An event as the log keeps it: its entries, or its pulls.</summary>
    private sealed record Mapped(Guid EventId, IReadOnlyList<AuditEntry> Entries, IReadOnlyList<ManifestPulled> Pulls)
    {
        /// <summary>What it adds to a commit; at least 1, since an event of no entries still costs its inbox row.</summary>
        public int Weight => Math.Max(1, Entries.Count + Pulls.Count);
    }

    /// <summary>Adds entries (see the overload).</summary>
    internal static Task<int> AppendAsync(AuditLogDbContext db, IReadOnlyList<AuditEntry> entries, CancellationToken cancellationToken) =>
        AppendAsync(db, entries, [], cancellationToken);

    /// <summary>
    /// Adds entries and pulls inside the caller's write transaction, skipping entry ids
    /// already recorded; returns how many were added. Every insert into the log goes through here.
    /// </summary>
    internal static async Task<int> AppendAsync(AuditLogDbContext db, IReadOnlyList<AuditEntry> entries, IReadOnlyList<ManifestPulled> pulls, CancellationToken cancellationToken)
    {
        if (entries.Count == 0 && pulls.Count == 0) return 0;
        if (db.Database.IsNpgsql())
            await db.Database.ExecuteSqlRawAsync($"SELECT pg_advisory_xact_lock({InsertOrderLock})", cancellationToken);
        return await InsertAsync(db, entries, pulls, cancellationToken);
    }

    /// <summary>Adds entries and pulls, the insert lock held already on PostgreSQL.</summary>
    private static async Task<int> InsertAsync(AuditLogDbContext db, IReadOnlyList<AuditEntry> entries, IReadOnlyList<ManifestPulled> pulls, CancellationToken cancellationToken) =>
        await AuditEntryInsert.InsertNewAsync(db, entries, cancellationToken)
        + await PullEntryInsert.InsertNewAsync(db, pulls, cancellationToken);
}
