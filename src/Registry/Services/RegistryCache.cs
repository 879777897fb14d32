using Microsoft.Extensions.Caching.Memory;

namespace Berth.Registry.Services;

/// <summary>A manifest ready to serve: everything a GET or HEAD needs, no database round trip.</summary>
public sealed record ManifestView(long Id, long RepositoryId, string Digest, string MediaType, byte[] Content, string? SubjectDigest);

/// <summary>
/// The hot-path cache: manifests by (repository, tag or digest) and blob links by
/// (repository, digest). Every write that changes what a key resolves to removes
/// the key after its transaction commits, so a reader never sees an older answer
/// than the database once the writer has returned.
/// </summary>
public sealed class RegistryCache(IMemoryCache memory)
{
    private static string ManifestKey(long repositoryId, string reference) => $"m\n{repositoryId}\n{reference}";

    private static string BlobKey(long repositoryId, string digest) => $"b\n{repositoryId}\n{digest}";

    public ManifestView? GetManifest(long repositoryId, string reference) =>
        memory.TryGetValue(ManifestKey(repositoryId, reference), out ManifestView? view) ? view : null;

    public void SetManifest(long repositoryId, string reference, ManifestView view) =>
        memory.Set(ManifestKey(repositoryId, reference), view, new MemoryCacheEntryOptions { Size = view.Content.Length + 256 });

    public void RemoveManifest(long repositoryId, string reference) => memory.Remove(ManifestKey(repositoryId, reference));

    public long? GetBlobSize(long repositoryId, string digest) =>
        memory.TryGetValue(BlobKey(repositoryId, digest), out long size) ? size : null;

    public void SetBlobSize(long repositoryId, string digest, long size) =>
        memory.Set(BlobKey(repositoryId, digest), size, new MemoryCacheEntryOptions { Size = 128 });

    public void RemoveBlob(long repositoryId, string digest) => memory.Remove(BlobKey(repositoryId, digest));
}
