namespace Berth.Registry.Services;

/// <summary>
/// Keeps the in-memory caches of several registry instances honest. Each
/// instance announces the keys its writes invalidate; the others drop them.
/// While the announcements cannot be trusted to arrive (the channel is down)
/// an instance must not answer from its cache at all.
/// </summary>
public interface ICacheCoherence
{
    /// <summary>Whether every other instance's invalidations are reaching this one.</summary>
    bool Trusted { get; }

    /// <summary>Tells the other instances that <paramref name="key"/> changed.</summary>
    void Announce(string key);

    /// <summary>Raised for a key another instance invalidated.</summary>
    event Action<string>? Invalidated;

    /// <summary>Raised when announcements may have been missed: everything cached is suspect.</summary>
    event Action? Reset;
}

/// <summary>One instance alone (the embedded default): nothing to tell, nothing to miss.</summary>
public sealed class SingleInstanceCoherence : ICacheCoherence
{
    public bool Trusted => true;

    public void Announce(string key) { }

    public event Action<string>? Invalidated { add { } remove { } }

    public event Action? Reset { add { } remove { } }
}
