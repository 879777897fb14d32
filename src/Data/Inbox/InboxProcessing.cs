using Microsoft.EntityFrameworkCore;

namespace Berth.Data.Inbox;

/// <summary>
/// Exactly-once handling on top of at-least-once delivery: the event id is
/// recorded in the consumer's database in the same transaction as the handler's
/// changes. A redelivered event finds its id and is skipped; a handler that fails
/// records nothing, so the redelivery handles it again. Two deliveries racing
/// each other collide on the inbox key (<see cref="InboxClaim"/>).
/// </summary>
public static class InboxProcessing
{
    /// <summary>Runs <paramref name="handle"/> unless <paramref name="consumer"/> already handled <paramref name="eventId"/>; true when it ran.</summary>
    public static Task<bool> ProcessOnceAsync<TContext>(this ModuleDatabase<TContext> database, string consumer, Guid eventId,
        Func<TContext, Task> handle, CancellationToken cancellationToken)
        where TContext : DbContext =>
        database.ProcessOnceAsync(consumer, [eventId], async (db, fresh) =>
        {
            if (fresh.Count == 0) return false;
            await handle(db);
            return true;
        }, cancellationToken);

    /// <summary>
    /// Several events in one transaction: <paramref name="handle"/> gets the ids among
    /// <paramref name="eventIds"/> that <paramref name="consumer"/> has not handled yet
    /// (possibly none), and they are recorded as handled with its changes.
    /// </summary>
    public static Task<T> ProcessOnceAsync<TContext, T>(this ModuleDatabase<TContext> database, string consumer, IReadOnlyCollection<Guid> eventIds,
        Func<TContext, IReadOnlySet<Guid>, Task<T>> handle, CancellationToken cancellationToken)
        where TContext : DbContext =>
        database.ProcessOnceAsync(consumer, eventIds, orderLock: null, handle, cancellationToken);

    /// <summary>
    /// As above, for a consumer whose writes must commit in the order they are made:
    /// on PostgreSQL the transaction first takes the advisory lock <paramref name="orderLock"/>
    /// (held to its end), in the same round trip as the inbox claim. SQLite's writes are
    /// serialized already.
    /// </summary>
    public static Task<T> ProcessOnceAsync<TContext, T>(this ModuleDatabase<TContext> database, string consumer, IReadOnlyCollection<Guid> eventIds,
        long? orderLock, Func<TContext, IReadOnlySet<Guid>, Task<T>> handle, CancellationToken cancellationToken)
        where TContext : DbContext =>
        database.WriteAsync(async db =>
        {
            var ids = eventIds.Distinct().ToArray();
            var fresh = db.Database.IsNpgsql()
                ? await InboxClaim.OnPostgresAsync(db, consumer, ids, database.Now(), orderLock, cancellationToken)
                : await InboxClaim.ThroughModelAsync(db, consumer, ids, database.Now(), cancellationToken);
            var result = await handle(db, fresh);
            await db.SaveChangesAsync(cancellationToken);
            return result;
        }, cancellationToken);
}
