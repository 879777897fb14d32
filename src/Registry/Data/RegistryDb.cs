using Microsoft.EntityFrameworkCore;

namespace Berth.Registry.Data;

/// <summary>
/// Hands out short-lived contexts over the pool, and the write gate that goes
/// with the provider. Services are singletons and open a context per operation.
/// </summary>
public sealed class RegistryDb(Func<RegistryDbContext> createContext, WriteGate writeGate, TimeProvider clock)
{
    public RegistryDbContext Open() => createContext();

    public WriteGate WriteGate { get; } = writeGate;

    /// <summary>UTC now, truncated to microseconds so both providers store exactly what was written.</summary>
    public DateTime Now()
    {
        var now = clock.GetUtcNow().UtcDateTime;
        return new DateTime(now.Ticks - now.Ticks % 10, DateTimeKind.Utc);
    }

    /// <summary>Runs a write transaction behind the gate, retrying races with concurrent writers.</summary>
    public Task<T> WriteAsync<T>(Func<RegistryDbContext, Task<T>> work, CancellationToken cancellationToken) =>
        TransientConflict.RetryAsync(async () =>
        {
            using var _ = await WriteGate.EnterAsync(cancellationToken);
            await using var db = Open();
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var result = await work(db);
            await transaction.CommitAsync(cancellationToken);
            return result;
        }, cancellationToken);
}
