using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Berth.Data;

/// <summary>
/// One process at a time, among instances that share a PostgreSQL database, does a
/// piece of work (ships one sink, rotates a log): a transaction-scoped advisory lock
/// on a connection of its own, held until the turn is disposed. The next instance
/// waits for the turn and then sees everything the last one committed; a process
/// that dies gives its turn up with its connection. A SQLite database belongs to one
/// process, so there the turn is free.
/// </summary>
public sealed class ExclusiveTurn : IAsyncDisposable
{
    private readonly DbContext? _context;
    private readonly IDbContextTransaction? _transaction;

    private ExclusiveTurn(DbContext? context, IDbContextTransaction? transaction)
    {
        _context = context;
        _transaction = transaction;
    }

    public static async Task<ExclusiveTurn> TakeAsync<TContext>(ModuleDatabase<TContext> database, string work, CancellationToken cancellationToken)
        where TContext : DbContext
    {
        var context = database.Open();
        if (!context.Database.IsNpgsql())
        {
            await context.DisposeAsync();
            return new ExclusiveTurn(null, null);
        }
        try
        {
            var transaction = await context.Database.BeginTransactionAsync(cancellationToken);
            await context.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({LockKeys.Of("berth-turn:" + work)})", cancellationToken);
            return new ExclusiveTurn(context, transaction);
        }
        catch
        {
            await context.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_transaction is not null) await _transaction.DisposeAsync();
        if (_context is not null) await _context.DisposeAsync();
    }
}
