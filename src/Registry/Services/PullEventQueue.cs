using System.Collections.Concurrent;
using Berth.Contracts.Registry;

namespace Berth.Registry.Services;

/// <summary>
/// Where manifest GETs leave their <see cref="ManifestPulled"/> events. A pull is
/// the hot path, so it only enqueues in memory; <see cref="PullEventWriter"/>
/// writes the queue to the outbox in batches. While the database is away the
/// writer retries and the queue fills; a full queue drops the event and counts
/// it rather than slow the pull.
/// Pulls and the writer share no lock: the writer takes its batches on an idle-priority
/// thread (<see cref="Berth.Data.Background.LowPriorityScheduler"/>), which any busy
/// thread preempts at once. Had it to take a lock that pulls take too (a bounded channel
/// takes one for every read and write), a pull arriving while it was preempted inside
/// that lock would wait until a core fell idle. (The concurrent queue locks only to add a
/// segment, each twice the last, so that stops once one holds the most that ever waited.)
/// </summary>
public sealed class PullEventQueue(RegistryMetrics metrics)
{
    /// <summary>Several seconds of pulls at full speed on a small machine (about eight on two cores).</summary>
    public const int Capacity = 1 << 16;

    private readonly ConcurrentQueue<ManifestPulled> _pulls = new();

    /// <summary>Pulls queued or about to be: a place is claimed before the pull goes in, so the queue never holds more than <see cref="Capacity"/>.</summary>
    private int _count;

    /// <summary>Completed by the first pull that finds it pending; the reader replaces it once it has woken.</summary>
    private TaskCompletionSource _arrived = NewSignal();

    public void Record(ManifestPulled pulled)
    {
        if (Interlocked.Increment(ref _count) > Capacity)
        {
            Interlocked.Decrement(ref _count);
            metrics.PullEventsDropped(1);
            return;
        }
        _pulls.Enqueue(pulled);
        // Once completed it stays so until the reader has woken: a read of its state, not a wake-up, for every pull of a busy moment.
        Volatile.Read(ref _arrived).TrySetResult();
    }

    /// <summary>Pulls waiting to be written.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Returns once a pull is waiting; throws only when <paramref name="cancellationToken"/> is cancelled. For the one reader.</summary>
    internal async Task WaitForPullsAsync(CancellationToken cancellationToken)
    {
        while (_pulls.IsEmpty)
        {
            var arrived = Volatile.Read(ref _arrived);
            // Looked at again after reading the signal: a pull queued before that read may have completed an older one.
            if (!_pulls.IsEmpty) return;
            await arrived.Task.WaitAsync(cancellationToken);
            Interlocked.CompareExchange(ref _arrived, NewSignal(), arrived);
        }
    }

    /// <summary>The oldest waiting pull, if any. For the one reader.</summary>
    internal bool TryTake(out ManifestPulled pulled)
    {
        if (!_pulls.TryDequeue(out pulled!)) return false;
        Interlocked.Decrement(ref _count);
        return true;
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
