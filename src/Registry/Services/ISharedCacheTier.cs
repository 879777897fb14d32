namespace Berth.Registry.Services;

/// <summary>
/// What several registry instances share about caching: each announces the keys
/// its writes invalidate so the others drop their in-memory copies, and a
/// shared store holds serialized copies any instance can fill its memory from
/// instead of asking the database. While announcements cannot be trusted to
/// arrive (the channel is down) an instance must not answer from its cache at all.
/// </summary>
public interface ISharedCacheTier
{
    /// <summary>Whether every other instance's invalidations are reaching this one.</summary>
    bool Trusted { get; }

    /// <summary>Tells the other instances that <paramref name="key"/> changed, and drops its shared copy.</summary>
    void Announce(string key);

    /// <summary>Raised for a key another instance invalidated.</summary>
    event Action<string>? Invalidated;

    /// <summary>Raised when announcements may have been missed: everything cached is suspect.</summary>
    event Action? Reset;

    /// <summary>
    /// Tells the other instances that <paramref name="key"/> now resolves, so they may load
    /// it from the database before a client asks. Only the key travels: a hint is never an
    /// answer, and one lost costs a later miss.
    /// </summary>
    void Hint(string key);

    /// <summary>Raised for a key an instance (this one included) hinted at.</summary>
    event Action<string>? Hinted;

    /// <summary>
    /// The shared copy of <paramref name="key"/>, if any, and the version it was read
    /// at: pass that to <see cref="Store"/> after reading the database, so a fill that
    /// a concurrent invalidation overtook is dropped. Never throws: an unreachable
    /// store is a miss.
    /// </summary>
    ValueTask<SharedRead> ReadAsync(string key);

    /// <summary>Offers a value for the shared store; kept only if <paramref name="read"/>'s version is still current.</summary>
    void Store(string key, byte[] value, SharedRead read);

    /// <summary>
    /// How long an instance may keep a copy in memory (null: as long as it likes). A
    /// writer cut off from the others cannot announce its writes; this bounds how long
    /// they may serve what it replaced.
    /// </summary>
    TimeSpan? EntryLifetime { get; }
}

/// <summary>A shared store's answer: the copy (null on a miss) and an opaque version to fill with.</summary>
public readonly record struct SharedRead(byte[]? Value, string? Version)
{
    /// <summary>No shared store, or it could not be asked: nothing to read and nothing to fill.</summary>
    public static SharedRead Unavailable => default;
}

/// <summary>One instance alone (the embedded default): nothing to tell, nothing to miss, nothing shared.</summary>
public sealed class SingleInstanceTier : ISharedCacheTier
{
    public bool Trusted => true;

    public void Announce(string key) { }

    public event Action<string>? Invalidated { add { } remove { } }

    public event Action? Reset { add { } remove { } }

    public void Hint(string key) { }

    public event Action<string>? Hinted { add { } remove { } }

    public ValueTask<SharedRead> ReadAsync(string key) => ValueTask.FromResult(SharedRead.Unavailable);

    public void Store(string key, byte[] value, SharedRead read) { }

    public TimeSpan? EntryLifetime => null;
}
