using System.Text.Json.Serialization;

namespace Berth.Contracts.Registry;

// What happens to repositories, manifests, tags and blobs. The registry publishes them;
// scanning, mirroring, garbage collection and the audit log consume them.

public sealed record RepositoryCreated(string Repository) : IntegrationEvent;

/// <summary>A manifest stored (or stored again) by a push; <c>Tags</c> is the tag it was pushed under, if any.</summary>
public sealed record ManifestPushed(
    string Repository,
    string Digest,
    string MediaType,
    IReadOnlyList<string> Tags,
    long Size,
    IReadOnlyList<string> Layers,
    string? ArtifactType,
    string? Subject) : IntegrationEvent;

/// <summary>
/// A manifest served to a GET (a HEAD transfers nothing and is not a pull); <c>Tag</c>
/// is the tag it was asked for by, null when asked for by digest. Each pull has its
/// own event id, actor and time, but pulls travel in <see cref="ManifestsPulled"/> batches.
/// </summary>
public sealed record ManifestPulled(string Repository, string Digest, string MediaType, string? Tag) : IntegrationEvent;

/// <summary>
/// The pulls one registry instance answered within a short window. Pulls are the hot
/// path: one outbox row and one message per batch instead of per pull keeps them
/// cheap at thousands a second. They are recorded off the request path, so the last
/// moment's pulls of a process that crashes are not published. On the wire each
/// pull is a short row beside the batch's distinct sources (<see cref="PullBatchJson"/>).
/// </summary>
public sealed record ManifestsPulled([property: JsonConverter(typeof(PullBatchJson))] IReadOnlyList<ManifestPulled> Pulls) : IntegrationEvent;

public sealed record ManifestDeleted(string Repository, string Digest, IReadOnlyList<string> EndedTags) : IntegrationEvent;

public sealed record TagCreated(string Repository, string Tag, string Digest) : IntegrationEvent;

public sealed record TagMoved(string Repository, string Tag, string Digest, string PreviousDigest) : IntegrationEvent;

public sealed record TagDeleted(string Repository, string Tag, string Digest) : IntegrationEvent
{
    /// <summary>Deleted with its history: the time machine can no longer restore it.</summary>
    public bool Permanent { get; init; }
}

/// <summary>A tag removed by a retention policy (it stays restorable for the time-machine window).</summary>
public sealed record TagPruned(string Repository, string Tag, string Digest, string Policy) : IntegrationEvent;

/// <summary>A live tag's expiration set (or cleared: <c>ExpiresAt</c> null), through the API or by a <c>quay.expires-after</c> label at push.</summary>
public sealed record TagExpirationChanged(string Repository, string Tag, string Digest, DateTimeOffset? ExpiresAt) : IntegrationEvent;

/// <summary>A tag pointed back, through the time machine, at a manifest it pointed at before; <c>PreviousDigest</c> is where it pointed (null if it was deleted).</summary>
public sealed record TagRestored(string Repository, string Tag, string Digest, string? PreviousDigest) : IntegrationEvent;

/// <summary>A blob stored and linked into a repository by an upload (not by a mount).</summary>
public sealed record BlobUploaded(string Repository, string Digest, long Size) : IntegrationEvent;

/// <summary>A blob's link removed from a repository; the bytes stay until garbage collection.</summary>
public sealed record BlobDeleted(string Repository, string Digest) : IntegrationEvent;

/// <summary>An upload refused at its end: the content did not have the digest the client claimed. Nothing was stored.</summary>
public sealed record UploadFailed(string Repository, string ClaimedDigest, string ActualDigest, long Size) : IntegrationEvent;

/// <summary>A tag whose expiration passed, ended by garbage collection; its history stays for the time-machine window.</summary>
public sealed record TagExpired(string Repository, string Tag, string Digest, DateTimeOffset ExpiredAt) : IntegrationEvent;

/// <summary>
/// A collection pass finished (or a dry run reported what it would do), over the
/// whole registry, one namespace or one repository.
/// </summary>
public sealed record GarbageCollected(
    Guid RunId,
    string? Namespace,
    string? Repository,
    bool DryRun,
    int TagsExpired,
    int TagHistoryPruned,
    int ManifestsRemoved,
    int BlobLinksRemoved,
    int BlobsRemoved,
    long BytesFreed,
    int UploadsRemoved,
    int OrphanFilesRemoved,
    double Seconds) : IntegrationEvent
{
    /// <summary>Tags retention policies removed before collecting.</summary>
    public int TagsPruned { get; init; }
}

/// <summary>
/// A namespace's deduplicated storage passed its quota's warning limit with a blob
/// stored by <c>Actor</c>; published once per crossing by the instance that stored it.
/// </summary>
public sealed record QuotaWarningReached(string Namespace, long StoredBytes, long WarningBytes, long? RejectBytes) : IntegrationEvent;
