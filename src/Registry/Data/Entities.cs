namespace Berth.Registry.Data;

public sealed class RepositoryRow
{
    public long Id { get; set; }
    public required string Name { get; set; }
    public DateTime CreatedAt { get; set; }
}

/// <summary>A blob the store holds, shared by every repository that links it.</summary>
public sealed class BlobRow
{
    public required string Digest { get; set; }
    public long Size { get; set; }
    public DateTime CreatedAt { get; set; }
}

/// <summary>Permission for a repository to serve a blob: set by an upload or a mount into that repository.</summary>
public sealed class RepositoryBlobRow
{
    public long RepositoryId { get; set; }
    public required string Digest { get; set; }
    public DateTime LinkedAt { get; set; }
}

/// <summary>A manifest as pushed to one repository, kept byte for byte.</summary>
public sealed class ManifestRow
{
    public long Id { get; set; }
    public long RepositoryId { get; set; }
    public required string Digest { get; set; }
    public required string MediaType { get; set; }
    public string? ArtifactType { get; set; }
    public string? SubjectDigest { get; set; }
    public required byte[] Content { get; set; }
    /// <summary>Sum of the config and layer sizes (image) or of the children's sizes as declared (index).</summary>
    public long TotalSize { get; set; }
    public string? Annotations { get; set; }
    public DateTime PushedAt { get; set; }
    /// <summary>Set by DELETE by digest; the row stays for history until garbage collection removes it.</summary>
    public DateTime? DeletedAt { get; set; }
    /// <summary>Last time a push named this manifest again (re-pushed, or named by an index); it counts like <see cref="PushedAt"/> for the grace period.</summary>
    public DateTime? TouchedAt { get; set; }
    /// <summary>Last time it was pulled by digest (written in batches, so up to half a minute late).</summary>
    public DateTime? LastPulledAt { get; set; }
}

public sealed class ManifestBlobRow
{
    public long ManifestId { get; set; }
    public required string Digest { get; set; }
}

public sealed class ManifestChildRow
{
    public long ParentId { get; set; }
    public long ChildId { get; set; }
}

/// <summary>
/// One lifetime of a tag: it points at a manifest from <see cref="StartedAt"/>
/// until <see cref="EndedAt"/>. Moving or deleting a tag ends the live row, so
/// every earlier target stays on record.
/// </summary>
public sealed class TagRow
{
    public long Id { get; set; }
    public long RepositoryId { get; set; }
    public required string Name { get; set; }
    public long ManifestId { get; set; }
    public DateTime StartedAt { get; set; }
    public DateTime? EndedAt { get; set; }
    /// <summary>When a live tag stops resolving; garbage collection then ends it as expired.</summary>
    public DateTime? ExpiresAt { get; set; }
    /// <summary>Last time a live tag was pulled by name (written in batches, so up to half a minute late).</summary>
    public DateTime? LastPulledAt { get; set; }
}

public sealed class UploadSessionRow
{
    public Guid Id { get; set; }
    public long RepositoryId { get; set; }
    public DateTime StartedAt { get; set; }
}

/// <summary>
/// What one collection run removed so far, across its attempts: each batch adds to it in
/// the transaction that removes, so a run resumed after a crash reports exactly what it
/// removed in all.
/// </summary>
public sealed class CollectionTallyRow
{
    public Guid RunId { get; set; }
    public DateTime StartedAt { get; set; }
    public int TagsExpired { get; set; }
    public int TagHistoryPruned { get; set; }
    public int ManifestsRemoved { get; set; }
    public int BlobLinksRemoved { get; set; }
    public int BlobsRemoved { get; set; }
    public long BytesFreed { get; set; }
    public int UploadsRemoved { get; set; }
    public int OrphanFilesRemoved { get; set; }
}
