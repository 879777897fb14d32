using System.Collections.Concurrent;
using Berth.Registry.Collection;
using Berth.Registry.Data;
using Microsoft.EntityFrameworkCore;

namespace Berth.Registry.Services;

/// <summary>
/// How many bytes each namespace stores, deduplicated (every distinct blob its
/// repositories link, once). Computed by one query and then kept current in memory:
/// a commit that adds a blob new to the namespace adds its size at once, and the
/// figure is computed again after <see cref="RecomputeAfter"/> (which also catches
/// what other instances and garbage collection changed). A push never waits on more
/// than the one query for a namespace whose figure is stale.
/// </summary>
public sealed class NamespaceUsage(RegistryDb registryDb, TimeProvider clock)
{
    public static readonly TimeSpan RecomputeAfter = TimeSpan.FromSeconds(30);
    private readonly ConcurrentDictionary<string, (long Bytes, DateTimeOffset ComputedAt)> _usage = new(StringComparer.Ordinal);

    public async ValueTask<long> BytesAsync(string @namespace, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (_usage.TryGetValue(@namespace, out var known) && now - known.ComputedAt < RecomputeAfter) return known.Bytes;
        await using var db = registryDb.Open();
        var repositories = CollectionPlanner.RepositoriesIn(db, new CollectionScope(@namespace));
        var bytes = await db.Blobs.AsNoTracking()
            .Where(b => db.RepositoryBlobs.Any(l => l.Digest == b.Digest && repositories.Any(r => r.Id == l.RepositoryId)))
            .SumAsync(b => b.Size, cancellationToken);
        _usage[@namespace] = (bytes, now);
        return bytes;
    }

    /// <summary>Whether a repository of the namespace links the blob already (then linking it again costs nothing).</summary>
    public async Task<bool> HoldsAsync(string @namespace, string digest, CancellationToken cancellationToken)
    {
        await using var db = registryDb.Open();
        var repositories = CollectionPlanner.RepositoriesIn(db, new CollectionScope(@namespace));
        return await db.RepositoryBlobs.AsNoTracking().AnyAsync(l => l.Digest == digest && repositories.Any(r => r.Id == l.RepositoryId), cancellationToken);
    }

    /// <summary>Adds a blob new to the namespace; returns the figure with it.</summary>
    public long Added(string @namespace, long bytes) =>
        _usage.AddOrUpdate(@namespace, _ => (bytes, DateTimeOffset.MinValue), (_, known) => (known.Bytes + bytes, known.ComputedAt)).Bytes;

    /// <summary>Forgets every figure (after a collection freed space).</summary>
    public void Forget() => _usage.Clear();
}
