namespace Berth.Oci;

/// <summary>A descriptor as it appears inside a manifest: what it points at and how big it is.</summary>
public sealed record ContentDescriptor(string MediaType, Digest Digest, long Size, string? ArtifactType = null, IReadOnlyList<string>? Urls = null, Platform? Platform = null)
{
    /// <summary>Non-distributable layers live elsewhere (their urls); the registry need not hold them.</summary>
    public bool IsForeign => Urls is { Count: > 0 };
}

public sealed record Platform(string Os, string Architecture, string? Variant);

/// <summary>What the registry needs to know about a manifest: its kind, what it references, and its subject.</summary>
public sealed record ParsedManifest(
    string MediaType,
    string? ArtifactType,
    ContentDescriptor? Config,
    IReadOnlyList<ContentDescriptor> Layers,
    IReadOnlyList<ContentDescriptor> Children,
    ContentDescriptor? Subject,
    IReadOnlyDictionary<string, string>? Annotations)
{
    public bool IsIndex => MediaTypes.IsIndex(MediaType);

    /// <summary>Blobs the manifest needs: the config and every layer that is not foreign.</summary>
    public IEnumerable<ContentDescriptor> RequiredBlobs =>
        (Config is null ? Layers : Layers.Prepend(Config)).Where(d => !d.IsForeign);

    /// <summary>The artifact type a referrers listing reports: the explicit one, else the config's media type.</summary>
    public string? EffectiveArtifactType => ArtifactType ?? Config?.MediaType;
}
