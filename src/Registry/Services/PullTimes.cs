using System.Collections.Concurrent;

namespace Berth.Registry.Services;

/// <summary>
/// When each tag (and each manifest pulled by digest) was last pulled, for the
/// retention rule "remove tags not pulled within a period". A pull only sets a
/// value in memory; <see cref="PullTimeWriter"/> writes the latest times every
/// half minute, so the database sees one update per tag however often it is pulled.
/// </summary>
public sealed class PullTimes(TimeProvider clock)
{
    private ConcurrentDictionary<(long RepositoryId, string Tag), DateTime> _tags = new();
    private ConcurrentDictionary<long, DateTime> _manifests = new();

    public void Record(long repositoryId, string? tag, long manifestId)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        if (tag is not null) _tags[(repositoryId, tag)] = now;
        else _manifests[manifestId] = now;
    }

    /// <summary>Takes what was recorded since the last call.</summary>
    internal (IReadOnlyDictionary<(long RepositoryId, string Tag), DateTime> Tags, IReadOnlyDictionary<long, DateTime> Manifests) Drain() =>
        (Interlocked.Exchange(ref _tags, new()), Interlocked.Exchange(ref _manifests, new()));
}
