using Microsoft.EntityFrameworkCore;

namespace Berth.Data.Inbox;

/// <summary>
/// Exactly-once handling on top of at-least-once delivery: the event id is
/// recorded in the consumer's database in the same transaction as the handler's
/// changes. A redelivered event finds its id and is skipped; a handler that fails
/// records nothing, so the redelivery handles it again. Two deliveries racing
/// each other collide on the inbox key, and the loser's retry sees the winner's row.
/// </summary>
public static class InboxProcessing
{
    /// <summary>Runs <paramref name="handle"/> unless <paramref name="consumer"/> already handled <paramref name="eventId"/>; true when it ran.</summary>
    public static Task<bool> ProcessOnceAsync<TContext>(this ModuleDatabase<TContext> database, string consumer, Guid eventId,
        Func<TContext, Task> handle, CancellationToken cancellationToken)
        where TContext : DbContext =>
        database.WriteAsync(async db =>
        {
            var inbox = db.Set<InboxMessage>();
            if (await inbox.AnyAsync(m => m.EventId == eventId && m.Consumer == consumer, cancellationToken)) return false;
            inbox.Add(new InboxMessage { EventId = eventId, Consumer = consumer, ProcessedAt = database.Now() });
            await handle(db);
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }, cancellationToken);
}
