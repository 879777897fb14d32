using Berth.Registry.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Berth.Registry.Services;

/// <summary>
/// Records upload sessions in the database a moment after they start (<see cref="Delay"/>),
/// not at the start. Most uploads end within that moment on the instance that started
/// them (POST then PUT, or POST, one PATCH and PUT) and then never need a row: this saves
/// a database write an upload, a round trip on PostgreSQL. A session still going after
/// the moment gets its row, written together with the others due then, so any instance
/// can go on with it (the staged bytes are in the shared store) and the collector sees it.
/// What it costs: an instance that dies loses the sessions it started in the last moment
/// (their clients start the blob again), and an instance asked about a session whose row
/// is not there yet waits up to <see cref="LongestWait"/> for it (<see cref="UploadService"/>).
/// </summary>
public sealed class UploadSessionRecorder(RegistryDb registryDb, ILogger<UploadSessionRecorder> logger) : BackgroundService
{
    /// <summary>How long a session goes without a row.</summary>
    public static readonly TimeSpan Delay = TimeSpan.FromSeconds(1);

    /// <summary>How often the sessions due are written.</summary>
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(200);

    /// <summary>How long another instance may have to wait for a row: the delay, a tick, and the write itself.</summary>
    public static readonly TimeSpan LongestWait = Delay + TimeSpan.FromSeconds(1);

    private readonly Lock _gate = new();

    /// <summary>
    /// Sessions without a row, and when each is due (<see cref="Environment.TickCount64"/>:
    /// the delay is real time, whatever clock the database's timestamps follow). Only the
    /// last moment's sessions are here, so each write looks through them all.
    /// </summary>
    private readonly Dictionary<Guid, PendingSession> _pending = [];

    private sealed record PendingSession(UploadSessionRow Session, long DueAt);

    /// <summary>Sessions in a batch being written, and that write.</summary>
    private readonly Dictionary<Guid, Task> _writing = [];

    private long _rowsWritten;

    /// <summary>Sessions waiting for their row.</summary>
    public int PendingCount
    {
        get { lock (_gate) return _pending.Count; }
    }

    /// <summary>Session rows this instance has written since it started.</summary>
    public long RowsWritten => Interlocked.Read(ref _rowsWritten);

    /// <summary>A new session: its row is written after <see cref="Delay"/> unless it ends first.</summary>
    public void Started(UploadSessionRow session)
    {
        var dueAt = Environment.TickCount64 + (long)Delay.TotalMilliseconds;
        lock (_gate) _pending[session.Id] = new PendingSession(session, dueAt);
    }

    /// <summary>
    /// The session is ending (its blob is being committed, or it is cancelled or refused):
    /// no row is written for it from now on. A row being written is waited for, so the
    /// caller's delete of the session's row finds it. Returns the session if it had no row,
    /// for <see cref="Restore"/> should the ending fail.
    /// </summary>
    public async Task<UploadSessionRow?> EndingAsync(Guid uploadId)
    {
        while (true)
        {
            Task write;
            lock (_gate)
            {
                if (_pending.Remove(uploadId, out var pending)) return pending.Session;
                if (!_writing.TryGetValue(uploadId, out write!)) return null;
            }
            // A failed write puts the session back among the pending before it completes: look again.
            try { await write; } catch { /* the writer logs it */ }
        }
    }

    /// <summary>An ending that failed leaves the session going: it gets its row as if it had just started.</summary>
    public void Restore(UploadSessionRow? session)
    {
        if (session is not null) Started(session);
    }

    /// <summary>
    /// Writes every pending session's row now, whatever its age, and waits for writes under
    /// way: before the collector looks for stale sessions, and on shutdown.
    /// </summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        await WriteDueAsync(long.MaxValue, cancellationToken);
        Task[] underWay;
        lock (_gate) underWay = [.. _writing.Values.Distinct()];
        await Task.WhenAll(underWay).WaitAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Tick, stoppingToken);
                await WriteDueAsync(Environment.TickCount64, stoppingToken);
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                // Stopping: what is pending is written by StopAsync.
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Could not record {Count} upload sessions; trying again", PendingCount);
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        // Sessions going on across a restart keep their rows.
        try
        {
            await FlushAsync(cancellationToken);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Could not record {Count} upload sessions on shutdown; their clients start those blobs again", PendingCount);
        }
    }

    /// <summary>Writes the rows of the sessions due by <paramref name="now"/> (a <see cref="Environment.TickCount64"/>), in one transaction.</summary>
    private async Task WriteDueAsync(long now, CancellationToken cancellationToken)
    {
        List<PendingSession> due;
        var written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            due = [.. _pending.Values.Where(p => p.DueAt <= now)];
            foreach (var pending in due)
            {
                _pending.Remove(pending.Session.Id);
                _writing[pending.Session.Id] = written.Task;
            }
        }
        if (due.Count == 0) return;
        int added;
        try
        {
            added = await registryDb.WriteAsync(async db =>
            {
                var ids = due.Select(p => p.Session.Id).ToArray();
                var repositoryIds = due.Select(p => p.Session.RepositoryId).Distinct().ToArray();
                // A session of a repository deleted meanwhile has nothing to go on with; a row already
                // there was written by an attempt whose commit went through but whose answer was lost.
                var existing = (await db.Repositories.Where(r => repositoryIds.Contains(r.Id)).Select(r => r.Id).ToListAsync(cancellationToken)).ToHashSet();
                var recorded = (await db.UploadSessions.Where(u => ids.Contains(u.Id)).Select(u => u.Id).ToListAsync(cancellationToken)).ToHashSet();
                // New rows each attempt: a failed SaveChanges leaves its entities tracked by the context it used.
                var rows = due.Where(p => existing.Contains(p.Session.RepositoryId) && !recorded.Contains(p.Session.Id))
                    .Select(p => new UploadSessionRow { Id = p.Session.Id, RepositoryId = p.Session.RepositoryId, StartedAt = p.Session.StartedAt }).ToList();
                db.UploadSessions.AddRange(rows);
                await db.SaveChangesAsync(cancellationToken);
                return rows.Count;
            }, cancellationToken);
        }
        catch (Exception e)
        {
            lock (_gate)
                foreach (var pending in due)
                {
                    _writing.Remove(pending.Session.Id);
                    _pending.TryAdd(pending.Session.Id, pending);
                }
            written.SetException(e);
            _ = written.Task.Exception; // observed: an ending waiting on it looks again, and the caller has the exception
            throw;
        }
        Interlocked.Add(ref _rowsWritten, added);
        lock (_gate)
            foreach (var pending in due)
                _writing.Remove(pending.Session.Id);
        written.SetResult();
    }
}
