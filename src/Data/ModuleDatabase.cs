using Microsoft.EntityFrameworkCore;
using Berth.Data.Outbox;

namespace Berth.Data;

/// <summary>
/// A module's database: short-lived contexts over the pool, the write gate that
/// goes with the provider, and write transactions that retry lost races and wake
/// the outbox dispatcher once they commit. Services are singletons and open a
/// context per operation.
/// </summary>
public class ModuleDatabase<TContext>(Func<TContext> createContext, WriteGate writeGate, TimeProvider clock, OutboxSignal? outboxSignal = null)
    where TContext : DbContext
{
    public TContext Open() => createContext();

    /// <summary>Rings when a write commits, for the module's outbox dispatcher.</summary>
    public OutboxSignal Outbox { get; } = outboxSignal ?? new OutboxSignal();

    public WriteGate WriteGate { get; } = writeGate;

    /// <summary>UTC now, truncated to microseconds so both providers store exactly what was written.</summary>
    public DateTime Now()
    {
        var now = clock.GetUtcNow().UtcDateTime;
        return new DateTime(now.Ticks - now.Ticks % 10, DateTimeKind.Utc);
    }

    /// <summary>Runs a write transaction that has no result (see the overload).</summary>
    public Task WriteAsync(Func<TContext, Task> work, CancellationToken cancellationToken) =>
        WriteAsync(async db =>
        {
            await work(db);
            return true;
        }, cancellationToken);

    /// <summary>Runs a write transaction behind the gate, retrying races with concurrent writers.</summary>
    public async Task<T> WriteAsync<T>(Func<TContext, Task<T>> work, CancellationToken cancellationToken)
    {
        var published = false;
        var result = await TransientConflict.RetryAsync(async () =>
        {
            using var _ = await WriteGate.EnterAsync(cancellationToken);
            await using var db = Open();
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            // A failed write is retried whole, never resumed, so EF's savepoint around each
            // SaveChanges inside the transaction would only cost two round trips.
            db.Database.AutoSavepointsEnabled = false;
            var value = await work(db);
            await transaction.CommitAsync(cancellationToken);
            published = db.ChangeTracker.Entries<OutboxMessage>().Any();
            return value;
        }, cancellationToken);
        // Most writes (blob links, upload progress) carry no event: only wake the dispatcher for those that do.
        if (published) Outbox.Wake();
        return result;
    }
}
