namespace Berth.Registry.Collection;

/// <summary>What decides whether a manifest may go, gathered by planning or under its lock (deleting).</summary>
public readonly record struct ManifestFacts(bool HasTagRow, bool HasParent, bool HasSubject, DateTime LastPushedAt);

/// <summary>What decides whether a repository's link to a blob may go.</summary>
public readonly record struct LinkFacts(bool ReferencedInRepository, DateTime LinkedAt);

/// <summary>What decides whether a blob (row and bytes) may go.</summary>
public readonly record struct BlobFacts(bool Linked, bool Referenced, DateTime CreatedAt);

/// <summary>
/// The one statement of what garbage is. Planning applies these rules to what
/// it read of the whole scope; deleting applies them again to facts read under
/// the lock, so whatever changed in between (a push, a restore) wins.
/// </summary>
public static class ReachabilityRules
{
    /// <summary>
    /// A manifest goes when no tag row (live, or ended within the time-machine
    /// window) points at it, no index that still exists names it, the manifest it is
    /// a referrer of (its subject) is gone, and its grace period has passed.
    /// </summary>
    public static bool ManifestCollectable(ManifestFacts facts, DateTime graceCutoff) =>
        !facts.HasTagRow && !facts.HasParent && !facts.HasSubject && facts.LastPushedAt < graceCutoff;

    /// <summary>A link goes when no manifest of its repository names the blob and nobody uploaded, mounted or checked it within the grace period.</summary>
    public static bool LinkCollectable(LinkFacts facts, DateTime graceCutoff) =>
        !facts.ReferencedInRepository && facts.LinkedAt < graceCutoff;

    /// <summary>A blob goes when no repository links it, no manifest names it, and it is older than the grace period.</summary>
    public static bool BlobCollectable(BlobFacts facts, DateTime graceCutoff) =>
        !facts.Linked && !facts.Referenced && facts.CreatedAt < graceCutoff;

    /// <summary>A live tag whose expiration has come.</summary>
    public static bool TagExpired(DateTime? endedAt, DateTime? expiresAt, DateTime now) =>
        endedAt is null && expiresAt is { } expires && expires <= now;

    /// <summary>An ended tag row older than its namespace's time-machine window: it no longer protects its manifest.</summary>
    public static bool TagHistoryPrunable(DateTime? endedAt, DateTime windowCutoff) =>
        endedAt is { } ended && ended < windowCutoff;

    /// <summary>The namespace a repository belongs to: the part before the first slash ("" for a one-part name).</summary>
    public static string NamespaceOf(string repository) =>
        repository.IndexOf('/') is var slash and > 0 ? repository[..slash] : "";
}
