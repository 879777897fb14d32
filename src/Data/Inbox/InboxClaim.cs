using Microsoft.EntityFrameworkCore;

namespace Berth.Data.Inbox;

/// <summary>
/// Claims event ids for a consumer inside the current write transaction: the ids it
/// returns were not handled before, and are recorded as handled when the transaction commits.
/// </summary>
internal static class InboxClaim
{
    /// <summary>
    /// PostgreSQL: the inbox rows are inserted first, in one statement that returns the ids
    /// it added, so the claim is one round trip rather than a look-up, an insert with the
    /// handler's changes, and the look-up again after a collision. A delivery racing another
    /// of the same event waits on the inbox key until the other's transaction ends: it then
    /// finds the row (and skips the event), or, if the other rolled back, claims it itself.
    /// </summary>
    public static async Task<IReadOnlySet<Guid>> OnPostgresAsync(DbContext db, string consumer, Guid[] ids, DateTime now, long? orderLock,
        CancellationToken cancellationToken)
    {
        var claim =
            $"INSERT INTO {InboxModel.Table} (\"{nameof(InboxMessage.EventId)}\", \"{nameof(InboxMessage.Consumer)}\", \"{nameof(InboxMessage.ProcessedAt)}\") " +
            "SELECT id, @consumer, @now FROM unnest(@ids) AS id " +
            $"ON CONFLICT (\"{nameof(InboxMessage.EventId)}\", \"{nameof(InboxMessage.Consumer)}\") DO NOTHING RETURNING \"{nameof(InboxMessage.EventId)}\"";
        List<(string, object)> parameters = [("consumer", consumer), ("now", now), ("ids", ids)];
        if (orderLock is { } key) parameters.Add(("lock", key));
        await using var command = RawCommand.Create(db, orderLock is null ? claim : $"SELECT pg_advisory_xact_lock(@lock); {claim}", [.. parameters]);

        var fresh = new HashSet<Guid>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        // The lock's own statement comes first and returns a row of its own.
        if (orderLock is not null) await reader.NextResultAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) fresh.Add(reader.GetGuid(0));
        return fresh;
    }

    /// <summary>
    /// Any other provider (SQLite, in process, where a round trip costs little): the ids
    /// already handled are looked up, and the rest are added to the context, to be saved
    /// with the handler's changes. Writes there are serialized; were two to race, the
    /// second would collide on the inbox key and be retried whole, finding the first's rows.
    /// </summary>
    public static async Task<IReadOnlySet<Guid>> ThroughModelAsync(DbContext db, string consumer, Guid[] ids, DateTime now, CancellationToken cancellationToken)
    {
        var inbox = db.Set<InboxMessage>();
        var handled = await inbox.Where(m => m.Consumer == consumer && ids.Contains(m.EventId)).Select(m => m.EventId).ToListAsync(cancellationToken);
        var fresh = ids.Except(handled).ToHashSet();
        foreach (var id in fresh) inbox.Add(new InboxMessage { EventId = id, Consumer = consumer, ProcessedAt = now });
        return fresh;
    }
}
