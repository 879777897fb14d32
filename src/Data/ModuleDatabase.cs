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
    public Task<T> WriteAsync<T>(Func<TContext, Task<T>> work, CancellationToken cancellationToken) =>
        RunWriteAsync(work, explicitTransaction: true, cancellationToken);

    /// <summary>
    /// Saves what <paramref name="stage"/> adds or changes with one SaveChanges, behind the
    /// gate and retried like <see cref="WriteAsync{T}"/> but without an explicit transaction:
    /// SaveChanges is atomic alone (EF wraps several statements in a transaction of its own
    /// and runs a single one as it is), and on a server database the explicit BEGIN and
    /// COMMIT would cost a round trip of their own.
    /// </summary>
    public Task SaveAsync(Action<TContext> stage, CancellationToken cancellationToken) =>
        RunWriteAsync(db =>
        {
            stage(db);
            return db.SaveChangesAsync(cancellationToken);
        }, explicitTransaction: false, cancellationToken);

    private async Task<T> RunWriteAsync<T>(Func<TContext, Task<T>> work, bool explicitTransaction, CancellationToken cancellationToken)
    {
        var published = false;
        var result = await TransientConflict.RetryAsync(async () =>
        {
            using var _ = await WriteGate.EnterAsync(cancellationToken);
            await using var db = Open();
            await using var transaction = explicitTransaction ? await db.Database.BeginTransactionAsync(cancellationToken) : null;
            // A failed write is retried whole, never resumed, so EF's savepoint around each
            // SaveChanges inside the transaction would only cost two round trips.
            db.Database.AutoSavepointsEnabled = false;
            var value = await work(db);
            if (transaction is not null) await transaction.CommitAsync(cancellationToken);
            published = db.ChangeTracker.Entries<OutboxMessage>().Any();
            return value;
        }, cancellationToken);
        // Most writes (blob links, upload progress) carry no event: only wake the dispatcher for those that do.
        if (published) Outbox.Wake();
        return result;
    }
}
