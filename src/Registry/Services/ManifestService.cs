using Berth.Contracts.Registry;
using Berth.Data.Outbox;
using System.Text.Json;
using Berth.Registry.Collection;
using Berth.Registry.Data;
using Berth.Oci;
using Berth.Registry.Storage;
using Microsoft.EntityFrameworkCore;

namespace Berth.Registry.Services;

public sealed record PutManifestResult(Digest Digest, string? SubjectDigest);

public sealed record ReferrerDescriptor(string MediaType, string Digest, long Size, string? ArtifactType, Dictionary<string, string>? Annotations);

/// <summary>Storing, resolving and deleting manifests, and the tags that point at them.</summary>
public sealed class ManifestService(RegistryDb registryDb, RepositoryDirectory repositories, RegistryCache cache, TagWriter tags, RegistryMetrics metrics, EventActors actors, IBlobStore store, ITagGuard guard)
{
    public async Task<PutManifestResult> PutAsync(string repository, ManifestReference reference, byte[] content, string? contentType, CancellationToken cancellationToken)
    {
        var parsed = ManifestParser.Parse(content, contentType);
        var digest = Digest.Compute(content, reference.Digest?.Algorithm ?? Digest.Sha256);
        if (reference.Digest is { } claimed && claimed != digest)
            throw ErrorCode.DigestInvalid.With($"manifest content has digest {digest}, not {claimed}", new { expected = claimed.ToString(), actual = digest.ToString() });

        var repositoryId = await repositories.GetOrCreateAsync(repository, cancellationToken);
        var digestText = digest.ToString();
        var now = registryDb.Now();
        var annotations = parsed.Annotations is { Count: > 0 } a ? JsonSerializer.Serialize(a) : null;
        var totalSize = SaturatingSum(parsed.IsIndex ? parsed.Children : parsed.RequiredBlobs);
        var actor = actors.Current();
        var expiresAfter = reference.Tag is null ? null : await ExpiryOfAsync(parsed, cancellationToken);
        // The rules are in memory; only an immutable tag costs a look at where it points now.
        if (reference.Tag is { } guarded && await guard.ImmutableBecauseAsync(repository, guarded, cancellationToken) is not null
            && await CurrentTargetAsync(repositoryId, guarded, cancellationToken) is { } current && current != digestText)
            await guard.RequireMutableAsync(repository, guarded, "moved", cancellationToken);

        await registryDb.WriteAsync(async db =>
        {
            // Checked inside the write and under the locks garbage collection takes, so
            // neither a concurrent delete nor a collection can slip between check and insert.
            await ContentLocks.ShareAsync(db, ReferenceLocks(repositoryId, digestText, parsed), cancellationToken);
            var children = await ResolveReferencesAsync(db, repositoryId, parsed, cancellationToken);
            var existing = await db.Manifests.FirstOrDefaultAsync(m => m.RepositoryId == repositoryId && m.Digest == digestText, cancellationToken);
            if (existing is null)
            {
                existing = new ManifestRow
                {
                    RepositoryId = repositoryId,
                    Digest = digestText,
                    MediaType = parsed.MediaType,
                    ArtifactType = parsed.EffectiveArtifactType,
                    SubjectDigest = parsed.Subject?.Digest.ToString(),
                    Content = content,
                    TotalSize = totalSize,
                    Annotations = annotations,
                    PushedAt = now,
                };
                db.Manifests.Add(existing);
                await db.SaveChangesAsync(cancellationToken);
                foreach (var blob in parsed.RequiredBlobs.Select(b => b.Digest.ToString()).Distinct())
                    db.ManifestBlobs.Add(new ManifestBlobRow { ManifestId = existing.Id, Digest = blob });
                foreach (var childId in children.Distinct())
                    db.ManifestChildren.Add(new ManifestChildRow { ParentId = existing.Id, ChildId = childId });
                await db.SaveChangesAsync(cancellationToken);
            }
            else
            {
                // Pushed again: it is wanted, so the grace period starts over (and a deleted manifest comes back).
                existing.DeletedAt = null;
                existing.TouchedAt = now;
                await db.SaveChangesAsync(cancellationToken);
            }
            db.Publish(new ManifestPushed(repository, digestText, parsed.MediaType, reference.Tag is { } t ? [t] : [], totalSize,
                [.. parsed.Layers.Select(l => l.Digest.ToString())], parsed.EffectiveArtifactType, parsed.Subject?.Digest.ToString()) { Actor = actor });
            if (reference.Tag is { } tag)
            {
                var (changed, previous) = await tags.PointAsync(db, repositoryId, tag, existing.Id, now, cancellationToken);
                if (changed && previous is { } previousId)
                    db.Publish(new TagMoved(repository, tag, digestText, await DigestOfAsync(db, previousId, cancellationToken)) { Actor = actor });
                else if (changed)
                    db.Publish(new TagCreated(repository, tag, digestText) { Actor = actor });
                if (changed && expiresAfter is { } lifetime)
                {
                    var expiresAt = now + lifetime;
                    await db.Tags.Where(t => t.RepositoryId == repositoryId && t.Name == tag && t.EndedAt == null)
                        .ExecuteUpdateAsync(u => u.SetProperty(t => t.ExpiresAt, expiresAt), cancellationToken);
                    db.Publish(new TagExpirationChanged(repository, tag, digestText, new DateTimeOffset(expiresAt, TimeSpan.Zero)) { Actor = actor });
                }
            }
            await db.SaveChangesAsync(cancellationToken);
            return existing.Id;
        }, cancellationToken);

        if (reference.Tag is { } pushedTag)
        {
            cache.RemoveManifest(repositoryId, pushedTag);
            cache.RemoveTagList(repositoryId);
        }
        cache.RemoveManifest(repositoryId, digestText);
        metrics.ManifestPushed();
        return new PutManifestResult(digest, parsed.Subject?.Digest.ToString());
    }

    /// <summary>The <see cref="ExpiryLabel"/> of an image's config, read from the store (null for indexes, artifacts and large configs).</summary>
    private async Task<TimeSpan?> ExpiryOfAsync(ParsedManifest parsed, CancellationToken cancellationToken)
    {
        if (parsed.IsIndex || parsed.Config is not { Size: > 0 and <= ExpiryLabel.MaxConfigBytes } config) return null;
        await using var reader = await store.OpenReadAsync(config.Digest, cancellationToken);
        // A missing config is reported by the reference check in the transaction (MANIFEST_BLOB_UNKNOWN).
        if (reader is null) return null;
        try
        {
            var bytes = reader.LocalPath is { } path
                ? await File.ReadAllBytesAsync(path, cancellationToken)
                : await ReadAllAsync(reader.Stream!, cancellationToken);
            return ExpiryLabel.FromConfig(bytes);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            // A collection removed the unreferenced config between the look-up and the read:
            // the same as missing, and the check under the collection's locks says so.
            return null;
        }
    }

    private static async Task<byte[]> ReadAllAsync(Stream stream, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, cancellationToken);
        return buffer.ToArray();
    }

    /// <summary>The locks of everything a push makes reachable: its own row, its blobs and its children.</summary>
    private static IEnumerable<long> ReferenceLocks(long repositoryId, string digest, ParsedManifest parsed) =>
        parsed.RequiredBlobs.Select(b => ContentLocks.BlobKey(b.Digest.ToString()))
            .Concat(parsed.Children.Select(c => ContentLocks.ManifestKey(repositoryId, c.Digest.ToString())))
            .Append(ContentLocks.ManifestKey(repositoryId, digest));

    /// <summary>The digest a live tag points at, or null.</summary>
    private async Task<string?> CurrentTargetAsync(long repositoryId, string tag, CancellationToken cancellationToken)
    {
        await using var db = registryDb.Open();
        return await (from t in db.Tags.AsNoTracking()
                      join m in db.Manifests.AsNoTracking() on t.ManifestId equals m.Id
                      where t.RepositoryId == repositoryId && t.Name == tag && t.EndedAt == null
                      select m.Digest).FirstOrDefaultAsync(cancellationToken);
    }

    private static Task<string> DigestOfAsync(RegistryDbContext db, long manifestId, CancellationToken cancellationToken) =>
        db.Manifests.Where(m => m.Id == manifestId).Select(m => m.Digest).FirstAsync(cancellationToken);

    /// <summary>Declared sizes come from the client and may be absurd; the total caps at long.MaxValue instead of overflowing.</summary>
    private static long SaturatingSum(IEnumerable<ContentDescriptor> descriptors)
    {
        long total = 0;
        foreach (var d in descriptors) total = d.Size > long.MaxValue - total ? long.MaxValue : total + d.Size;
        return total;
    }

    /// <summary>Checks that every blob and child manifest the manifest names is in the repository; returns the children's row ids.</summary>
    private static async Task<List<long>> ResolveReferencesAsync(RegistryDbContext db, long repositoryId, ParsedManifest parsed, CancellationToken cancellationToken)
    {
        var required = parsed.RequiredBlobs.Select(b => b.Digest.ToString()).Distinct().ToList();
        if (required.Count > 0)
        {
            var present = await db.RepositoryBlobs.AsNoTracking()
                .Where(l => l.RepositoryId == repositoryId && required.Contains(l.Digest))
                .Select(l => l.Digest).ToListAsync(cancellationToken);
            var missing = required.Except(present, StringComparer.Ordinal).FirstOrDefault();
            if (missing is not null)
                throw ErrorCode.ManifestBlobUnknown.With($"blob {missing} is not in the repository; push it before the manifest", new { digest = missing });
        }
        var childDigests = parsed.Children.Select(c => c.Digest.ToString()).Distinct().ToList();
        if (childDigests.Count == 0) return [];
        var found = await db.Manifests.AsNoTracking()
            .Where(m => m.RepositoryId == repositoryId && childDigests.Contains(m.Digest) && m.DeletedAt == null)
            .Select(m => new { m.Id, m.Digest }).ToListAsync(cancellationToken);
        var absent = childDigests.Except(found.Select(f => f.Digest), StringComparer.Ordinal).FirstOrDefault();
        if (absent is not null)
            throw ErrorCode.ManifestBlobUnknown.With($"manifest {absent} named by the index is not in the repository; push it first", new { digest = absent });
        return [.. found.Select(f => f.Id)];
    }

    public async Task<ManifestView> GetAsync(string repository, ManifestReference reference, CancellationToken cancellationToken)
    {
        var repositoryId = await repositories.FindAsync(repository, cancellationToken)
            ?? throw ErrorCode.NameUnknown.With($"repository '{repository}' is not known", new { name = repository });
        return await GetAsync(repositoryId, reference, cancellationToken)
            ?? throw ErrorCode.ManifestUnknown.With($"manifest '{reference}' is not in repository '{repository}'", new { reference = reference.ToString() });
    }

    public async Task<ManifestView?> GetAsync(long repositoryId, ManifestReference reference, CancellationToken cancellationToken)
    {
        var key = reference.ToString();
        if (cache.GetManifest(repositoryId, key) is { } cached) return cached;
        var stamp = cache.ManifestStamp(repositoryId, key);
        var (shared, read) = await cache.ReadSharedManifestAsync(repositoryId, key, stamp);
        if (shared is not null) return shared;
        await using var db = registryDb.Open();
        ManifestView? view;
        if (reference.Tag is { } tag)
        {
            var now = registryDb.Now();
            var found = await (from t in db.Tags.AsNoTracking()
                               join m in db.Manifests.AsNoTracking() on t.ManifestId equals m.Id
                               where t.RepositoryId == repositoryId && t.Name == tag && t.EndedAt == null && m.DeletedAt == null
                                   && (t.ExpiresAt == null || t.ExpiresAt > now)
                               select new { View = new ManifestView(m.Id, m.RepositoryId, m.Digest, m.MediaType, m.Content, m.SubjectDigest, m.PushedAt), t.ExpiresAt })
                .FirstOrDefaultAsync(cancellationToken);
            // A tag that will expire is not cached: no copy may outlive its expiration.
            if (found?.ExpiresAt is not null) return found.View;
            view = found?.View;
        }
        else
        {
            view = await db.Manifests.AsNoTracking().Where(m => m.RepositoryId == repositoryId && m.Digest == key && m.DeletedAt == null)
                .Select(m => new ManifestView(m.Id, m.RepositoryId, m.Digest, m.MediaType, m.Content, m.SubjectDigest, m.PushedAt)).FirstOrDefaultAsync(cancellationToken);
        }
        if (view is not null) cache.SetManifest(repositoryId, key, view, stamp, read);
        return view;
    }

    /// <summary>DELETE by digest: every tag on it ends and the manifest stops resolving; DELETE by tag: only the tag ends.</summary>
    public async Task DeleteAsync(string repository, ManifestReference reference, CancellationToken cancellationToken)
    {
        var repositoryId = await repositories.FindAsync(repository, cancellationToken)
            ?? throw ErrorCode.NameUnknown.With($"repository '{repository}' is not known", new { name = repository });
        var actor = actors.Current();
        if (reference.Tag is { } tag)
        {
            await guard.RequireMutableAsync(repository, tag, "deleted", cancellationToken);
            var ended = await registryDb.WriteAsync(async db =>
            {
                var current = await db.Tags.Where(t => t.RepositoryId == repositoryId && t.Name == tag && t.EndedAt == null)
                    .Select(t => (long?)t.ManifestId).FirstOrDefaultAsync(cancellationToken);
                var count = await tags.EndAsync(db, repositoryId, tag, registryDb.Now(), cancellationToken);
                if (count > 0 && current is { } manifestId)
                {
                    db.Publish(new TagDeleted(repository, tag, await DigestOfAsync(db, manifestId, cancellationToken)) { Actor = actor });
                    await db.SaveChangesAsync(cancellationToken);
                }
                return count;
            }, cancellationToken);
            cache.RemoveManifest(repositoryId, tag);
            cache.RemoveTagList(repositoryId);
            if (ended == 0)
                throw ErrorCode.ManifestUnknown.With($"tag '{tag}' is not in repository '{repository}'", new { tag });
            return;
        }

        var digest = reference.ToString();
        await using (var read = registryDb.Open())
        {
            var liveTags = await (from t in read.Tags.AsNoTracking()
                                  join m in read.Manifests.AsNoTracking() on t.ManifestId equals m.Id
                                  where m.RepositoryId == repositoryId && m.Digest == digest && t.EndedAt == null
                                  select t.Name).ToListAsync(cancellationToken);
            foreach (var liveTag in liveTags) await guard.RequireMutableAsync(repository, liveTag, "deleted with its manifest", cancellationToken);
        }
        var endedTags = await registryDb.WriteAsync<List<string>?>(async db =>
        {
            var manifest = await db.Manifests.FirstOrDefaultAsync(m => m.RepositoryId == repositoryId && m.Digest == digest && m.DeletedAt == null, cancellationToken);
            if (manifest is null) return null;
            var now = registryDb.Now();
            manifest.DeletedAt = now;
            var ended = await tags.EndAllOnAsync(db, manifest.Id, now, cancellationToken);
            db.Publish(new ManifestDeleted(repository, digest, ended) { Actor = actor });
            await db.SaveChangesAsync(cancellationToken);
            return ended;
        }, cancellationToken);
        cache.RemoveManifest(repositoryId, digest);
        if (endedTags is null)
            throw ErrorCode.ManifestUnknown.With($"manifest {digest} is not in repository '{repository}'", new { digest });
        foreach (var name in endedTags) cache.RemoveManifest(repositoryId, name);
        if (endedTags.Count > 0) cache.RemoveTagList(repositoryId);
    }

    /// <summary>Manifests in the repository whose subject is <paramref name="subject"/>, optionally of one artifact type.</summary>
    public async Task<List<ReferrerDescriptor>> GetReferrersAsync(string repository, Digest subject, string? artifactType, CancellationToken cancellationToken)
    {
        var repositoryId = await repositories.FindAsync(repository, cancellationToken);
        if (repositoryId is null) return [];
        var subjectText = subject.ToString();
        await using var db = registryDb.Open();
        var query = db.Manifests.AsNoTracking().Where(m => m.RepositoryId == repositoryId && m.SubjectDigest == subjectText && m.DeletedAt == null);
        if (artifactType is not null) query = query.Where(m => m.ArtifactType == artifactType);
        var rows = await query.OrderBy(m => m.Id)
            .Select(m => new { m.MediaType, m.Digest, Size = (long)m.Content.Length, m.ArtifactType, m.Annotations })
            .ToListAsync(cancellationToken);
        return [.. rows.Select(r => new ReferrerDescriptor(r.MediaType, r.Digest, r.Size, r.ArtifactType,
            r.Annotations is null ? null : JsonSerializer.Deserialize<Dictionary<string, string>>(r.Annotations)))];
    }
}
