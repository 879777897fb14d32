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

public sealed record ManifestDeleted(string Repository, string Digest, IReadOnlyList<string> EndedTags) : IntegrationEvent;

public sealed record TagCreated(string Repository, string Tag, string Digest) : IntegrationEvent;

public sealed record TagMoved(string Repository, string Tag, string Digest, string PreviousDigest) : IntegrationEvent;

public sealed record TagDeleted(string Repository, string Tag, string Digest) : IntegrationEvent;
