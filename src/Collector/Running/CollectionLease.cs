using Berth.Collector.Data;
using Berth.Data;
using Microsoft.EntityFrameworkCore;

namespace Berth.Collector.Running;

/// <summary>
/// Collections never overlap: not in this process, and not among instances whose
/// collectors share one PostgreSQL database (every registry instance of the
/// distributed topology runs one). The holder keeps a session-level advisory lock
/// on a connection of its own for as long as its run lasts; a process that dies
/// drops it with its connection, and another instance takes over. A SQLite database
/// belongs to one process, where the in-process semaphore is all there is.
/// </summary>
public sealed class CollectionLease(CollectorDb collectorDb)
{
    private static readonly long Key = LockKeys.Of("berth-collector-run");
    private readonly SemaphoreSlim _inProcess = new(1, 1);

    /// <summary>The lease, or null when a collection holds it here or on another instance.</summary>
    public async Task<Held?> TryAcquireAsync(CancellationToken cancellationToken)
    {
        if (!await _inProcess.WaitAsync(0, cancellationToken)) return null;
        CollectorDbContext? connection = null;
        try
        {
            connection = collectorDb.Open();
            if (!connection.Database.IsNpgsql())
            {
                await connection.DisposeAsync();
                return new Held(this, null);
            }
            await connection.Database.OpenConnectionAsync(cancellationToken);
            if (await connection.Database.SqlQuery<bool>($"SELECT pg_try_advisory_lock({Key}) AS \"Value\"").SingleAsync(cancellationToken))
                return new Held(this, connection);
            await connection.DisposeAsync();
            _inProcess.Release();
            return null;
        }
        catch
        {
            if (connection is not null) await connection.DisposeAsync();
            _inProcess.Release();
            throw;
        }
    }

    /// <summary>Waits for the lease, asking again every second.</summary>
    public async Task<Held> AcquireAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (await TryAcquireAsync(cancellationToken) is { } held) return held;
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        }
    }

    /// <summary>The lease while a collection holds it; disposing gives it up.</summary>
    public sealed class Held(CollectionLease lease, CollectorDbContext? connection) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            if (connection is not null)
            {
                try
                {
                    await connection.Database.ExecuteSqlAsync($"SELECT pg_advisory_unlock({Key})", CancellationToken.None);
                }
                finally
                {
                    // An unlock fails only when the session is gone, and the lock went with it.
                    await connection.Database.CloseConnectionAsync();
                    await connection.DisposeAsync();
                }
            }
            lease._inProcess.Release();
        }
    }
}
