using System.Runtime.ExceptionServices;

namespace Berth.Data;

/// <summary>
/// Group commit: items that arrive while a commit runs wait for the next one, which takes
/// them together, so a database transaction (and its round trips) serves many callers.
/// The caller that finds no commit running leads: it commits the waiting items on its own
/// thread (so at its own scheduler's priority), then hands the lead to the first item still
/// waiting, if any, and returns. A caller that arrives alone commits alone, with no hand-off.
/// Every caller returns once its own item is committed, or throws what its commit threw.
/// </summary>
public sealed class GroupCommit<TItem>(Func<TItem, int> weigh, int maxWeight)
{
    private readonly Lock _gate = new();
    private readonly List<Waiting> _waiting = [];
    private bool _leading;

    /// <summary>
    /// Commits <paramref name="item"/> with whatever waits beside it, through the leader's
    /// <paramref name="commit"/>: a commit takes items in arrival order until their weights
    /// would pass the maximum (always at least one).
    /// </summary>
    public async Task RunAsync(TItem item, Func<IReadOnlyList<TItem>, CancellationToken, Task> commit, CancellationToken cancellationToken)
    {
        var own = new Waiting(item);
        bool lead;
        lock (_gate)
        {
            _waiting.Add(own);
            lead = !_leading;
            _leading = true;
        }
        // Not cancellable while waiting: a follower handed the lead must take it, or the items behind it would wait for ever.
        if (!lead && !await own.Outcome.Task) return;

        var batch = Take();
        Exception? failure = null;
        try
        {
            await commit([.. batch.Select(w => w.Item)], cancellationToken);
        }
        catch (Exception e)
        {
            failure = e;
        }
        foreach (var waiting in batch.Where(w => w != own))
        {
            if (failure is null) waiting.Outcome.TrySetResult(false);
            else waiting.Outcome.TrySetException(failure);
        }
        PassLead();
        if (failure is not null) ExceptionDispatchInfo.Throw(failure);
    }

    private List<Waiting> Take()
    {
        lock (_gate)
        {
            var count = 0;
            var weight = 0;
            while (count < _waiting.Count)
            {
                var next = weigh(_waiting[count].Item);
                if (count > 0 && weight + next > maxWeight) break;
                weight += next;
                count++;
            }
            var batch = _waiting[..count];
            _waiting.RemoveRange(0, count);
            return batch;
        }
    }

    private void PassLead()
    {
        lock (_gate)
        {
            if (_waiting.Count == 0) _leading = false;
            else _waiting[0].Outcome.TrySetResult(true);
        }
    }

    /// <summary>An item and how its wait ends: false, committed by another caller; true, this caller leads now.</summary>
    private sealed class Waiting(TItem item)
    {
        public TItem Item { get; } = item;

        public TaskCompletionSource<bool> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
