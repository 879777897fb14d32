namespace Berth.Registry.Collection;

/// <summary>
/// Whether clients are using this registry right now: the /v2 requests in
/// progress and when the last one ended. A collection asks before each rest and
/// steps further back while clients are busy, so pushes and pulls keep the
/// machine and an idle registry is collected at full pace. Two interlocked
/// operations a request; nothing is allocated.
/// </summary>
public sealed class ForegroundActivity(TimeProvider time)
{
    /// <summary>How long after the last request the registry still counts as busy: clients pause between requests.</summary>
    public static readonly TimeSpan QuietAfter = TimeSpan.FromSeconds(1);

    private int _inProgress;
    private long _lastEnded = long.MinValue;

    public Request Begin()
    {
        Interlocked.Increment(ref _inProgress);
        return new Request(this);
    }

    public bool IsBusy =>
        Volatile.Read(ref _inProgress) > 0
        || (Interlocked.Read(ref _lastEnded) is var last && last != long.MinValue && time.GetElapsedTime(last) < QuietAfter);

    private void End()
    {
        Interlocked.Exchange(ref _lastEnded, time.GetTimestamp());
        Interlocked.Decrement(ref _inProgress);
    }

    /// <summary>One request in progress; disposing it ends it.</summary>
    public readonly struct Request(ForegroundActivity activity) : IDisposable
    {
        public void Dispose() => activity.End();
    }
}
