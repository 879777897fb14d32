using Microsoft.Extensions.Caching.Memory;

namespace Berth.Registry.Services;

/// <summary>A manifest ready to serve: everything a GET or HEAD needs, no database round trip.</summary>
public sealed record ManifestView(long Id, long RepositoryId, string Digest, string MediaType, byte[] Content, string? SubjectDigest, DateTime PushedAt);

/// <summary>
/// The hot-path cache: manifests by (repository, tag or digest), blob links by
/// (repository, digest) and each repository's sorted list of live tags. Every write that changes what a key resolves to removes
/// the key after its transaction commits, so a reader never sees an older answer
/// than the database once the writer has returned.
/// A reader that missed fills the key from what it read, and that read may predate
/// a write that commits and removes the key before the fill lands; without a guard
/// the old answer would then be cached with no expiry. So every removal first bumps
/// a generation counter for the key's stripe, a filler takes the counter before it
/// reads (<see cref="ManifestStamp"/>, <see cref="BlobStamp"/>), and a fill whose
/// stripe moved on in the meantime is dropped again.
/// Several instances keep each other's copies honest through <see cref="ISharedCacheTier"/>:
/// a removal is announced to the others, and while announcements may be missed
/// nothing is answered from (or put into) the cache. Manifests and tag lists are
/// also shared: a miss here asks the shared tier (one Redis round trip) before
/// the database, and what the database answered is offered to the tier.
/// </summary>
public sealed class RegistryCache
{
    private readonly MemoryCache _memory;
    private readonly ISharedCacheTier _tier;

    /// <summary>Generations by key stripe; a shared stripe only costs a needless miss.</summary>
    private readonly long[] _generations = new long[1024];

    public RegistryCache(MemoryCache memory, ISharedCacheTier tier)
    {
        _memory = memory;
        _tier = tier;
        tier.Invalidated += InvalidateLocally;
        tier.Reset += Clear;
        tier.Hinted += OnHint;
    }

    /// <summary>
    /// Another instance (or this one) linked a blob to a repository: a pull of it may come
    /// here next. Nothing is cached from the hint itself (<see cref="BlobLinkWarmer"/> asks
    /// the database); a key that is not a blob link is ignored, and so is every hint while
    /// nothing could be cached from the database's answer (the tier is not trusted).
    /// </summary>
    public event Action<long, string>? BlobLinkHinted;

    private static string ManifestKey(long repositoryId, string reference) => $"m\n{repositoryId}\n{reference}";

    private static string BlobKey(long repositoryId, string digest) => $"b\n{repositoryId}\n{digest}";

    private static string TagListKey(long repositoryId) => $"t\n{repositoryId}";

    private ref long Generation(string key) => ref _generations[(uint)key.GetHashCode() % (uint)_generations.Length];

    public ManifestView? GetManifest(long repositoryId, string reference) =>
        _tier.Trusted && _memory.TryGetValue(ManifestKey(repositoryId, reference), out ManifestView? view) ? view : null;

    /// <summary>Take before reading the database; pass to <see cref="SetManifest"/>.</summary>
    public long ManifestStamp(long repositoryId, string reference) => Interlocked.Read(ref Generation(ManifestKey(repositoryId, reference)));

    /// <summary>
    /// After a miss here: the shared copy (now also in memory), or null and the
    /// version to pass to <see cref="SetManifest"/> with what the database says.
    /// </summary>
    public async ValueTask<(ManifestView? View, SharedRead Read)> ReadSharedManifestAsync(long repositoryId, string reference, long stamp)
    {
        var key = ManifestKey(repositoryId, reference);
        var read = await _tier.ReadAsync(key);
        if (read.Value is null || SharedCacheCodec.DecodeManifest(read.Value) is not { } view || !Consistent(view, repositoryId, reference))
            return (null, read);
        Fill(key, view, ManifestSize(view), stamp);
        return (view, read);
    }

    public void SetManifest(long repositoryId, string reference, ManifestView view, long stamp, SharedRead read)
    {
        var key = ManifestKey(repositoryId, reference);
        Fill(key, view, ManifestSize(view), stamp);
        if (read.Version is not null) _tier.Store(key, SharedCacheCodec.EncodeManifest(view), read);
    }

    /// <summary>
    /// A shared copy is served only if it is what its key promises: this repository's,
    /// the asked-for digest when asked by digest, and content that hashes to its digest.
    /// A damaged or planted copy is a miss, not an answer.
    /// </summary>
    private static bool Consistent(ManifestView view, long repositoryId, string reference) =>
        view.RepositoryId == repositoryId
        && (!reference.Contains(':') || reference == view.Digest)
        && Oci.Digest.TryParse(view.Digest, out var digest)
        && Oci.Digest.Compute(view.Content, digest.Value.Algorithm) == digest.Value;

    private static long ManifestSize(ManifestView view) => view.Content.Length + 256;

    public void RemoveManifest(long repositoryId, string reference) => Invalidate(ManifestKey(repositoryId, reference));

    public long? GetBlobSize(long repositoryId, string digest) =>
        _tier.Trusted && _memory.TryGetValue(BlobKey(repositoryId, digest), out long size) ? size : null;

    /// <summary>Take before reading or writing the database; pass to <see cref="SetBlobSize"/>.</summary>
    public long BlobStamp(long repositoryId, string digest) => Interlocked.Read(ref Generation(BlobKey(repositoryId, digest)));

    /// <summary>
    /// Caches that the repository may serve the blob, for at most <paramref name="lifetime"/>:
    /// a hit answers without touching the link, so the entry must not outlive the
    /// link's renewal interval (see <see cref="RegistryOptions.GracePeriod"/>).
    /// </summary>
    public void SetBlobSize(long repositoryId, string digest, long size, long stamp, TimeSpan lifetime) =>
        Fill(BlobKey(repositoryId, digest), size, 128, stamp, lifetime);

    public void RemoveBlob(long repositoryId, string digest) => Invalidate(BlobKey(repositoryId, digest));

    /// <summary>A link this instance just made: cached here, and hinted to the other instances.</summary>
    public void SetNewBlobLink(long repositoryId, string digest, long size, long stamp, TimeSpan lifetime)
    {
        SetBlobSize(repositoryId, digest, size, stamp, lifetime);
        _tier.Hint(BlobKey(repositoryId, digest));
    }

    private void OnHint(string key)
    {
        if (!_tier.Trusted) return;
        var parts = key.Split('\n');
        if (parts is ["b", var repository, var digest] && long.TryParse(repository, out var repositoryId) && Oci.Digest.TryParse(digest, out _)
            && GetBlobSize(repositoryId, digest) is null)
            BlobLinkHinted?.Invoke(repositoryId, digest);
    }

    /// <summary>The repository's live tag names in ordinal order, as one snapshot that pages are cut from.</summary>
    public string[]? GetTagList(long repositoryId) =>
        _tier.Trusted && _memory.TryGetValue(TagListKey(repositoryId), out string[]? tags) ? tags : null;

    /// <summary>Take before reading the database; pass to <see cref="SetTagList"/>.</summary>
    public long TagListStamp(long repositoryId) => Interlocked.Read(ref Generation(TagListKey(repositoryId)));

    /// <summary>After a miss here: the shared snapshot (now also in memory), or null and the version to pass to <see cref="SetTagList"/>.</summary>
    public async ValueTask<(string[]? Tags, SharedRead Read)> ReadSharedTagListAsync(long repositoryId, long stamp)
    {
        var key = TagListKey(repositoryId);
        var read = await _tier.ReadAsync(key);
        if (read.Value is null || SharedCacheCodec.DecodeTagList(read.Value) is not { } tags) return (null, read);
        Fill(key, tags, TagListSize(tags), stamp);
        return (tags, read);
    }

    public void SetTagList(long repositoryId, string[] tags, long stamp, SharedRead read)
    {
        var key = TagListKey(repositoryId);
        Fill(key, tags, TagListSize(tags), stamp);
        if (read.Version is not null) _tier.Store(key, SharedCacheCodec.EncodeTagList(tags), read);
    }

    private static long TagListSize(string[] tags) => 64 + tags.Sum(t => 32L + 2 * t.Length);

    /// <summary>Any tag of the repository started or ended.</summary>
    public void RemoveTagList(long repositoryId) => Invalidate(TagListKey(repositoryId));

    private void Fill<T>(string key, T value, long size, long stamp, TimeSpan? maxLifetime = null)
    {
        if (!_tier.Trusted) return;
        var lifetime = (_tier.EntryLifetime, maxLifetime) switch
        {
            ({ } tier, { } max) => tier < max ? tier : max,
            (var tier, var max) => tier ?? max,
        };
        _memory.Set(key, value, new MemoryCacheEntryOptions { Size = size, AbsoluteExpirationRelativeToNow = lifetime });
        // Set, then check: a removal that ran before the Set has bumped the generation
        // by now, and one that runs after it removes the entry itself.
        if (Interlocked.Read(ref Generation(key)) != stamp || !_tier.Trusted) _memory.Remove(key);
    }

    private void Invalidate(string key)
    {
        InvalidateLocally(key);
        _tier.Announce(key);
    }

    private void InvalidateLocally(string key)
    {
        Interlocked.Increment(ref Generation(key));
        _memory.Remove(key);
    }

    /// <summary>Forgets everything, and makes fills that started before now drop themselves.</summary>
    private void Clear()
    {
        for (var i = 0; i < _generations.Length; i++) Interlocked.Increment(ref _generations[i]);
        _memory.Clear();
    }
}
