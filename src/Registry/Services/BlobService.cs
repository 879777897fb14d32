using Berth.Contracts.Registry;
using Berth.Data;
using Berth.Data.Outbox;
using Berth.Registry.Data;
using Berth.Oci;
using Berth.Registry.Collection;
using Berth.Registry.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Berth.Registry.Services;

/// <summary>Which repository may serve which blob, and reading blobs through those links.</summary>
public sealed class BlobService(RegistryDb registryDb, RepositoryDirectory repositories, RegistryCache cache, IBlobStore store, EventActors actors,
    IOptions<RegistryOptions> options, QuotaCheck quota)
{
    /// <summary>
    /// A link older than this is renewed when a client asks for its blob, so that a
    /// client that was told "you have this layer" can still reference it for at least
    /// half the grace period; cached answers live no longer than this either.
    /// </summary>
    private readonly TimeSpan _renewLinksAfter = options.Value.GracePeriod / 4;

    /// <summary>
    /// Size of a blob this repository may serve, or null. Answering "yes" promises the
    /// client it may push a manifest naming the blob, so an old link is renewed first
    /// (garbage collection only removes links older than the grace period).
    /// </summary>
    public async ValueTask<long?> FindLinkedAsync(long repositoryId, Digest digest, CancellationToken cancellationToken)
    {
        var key = digest.ToString();
        if (cache.GetBlobSize(repositoryId, key) is { } cached) return cached;
        var stamp = cache.BlobStamp(repositoryId, key);
        var now = registryDb.Now();
        await using (var db = registryDb.Open())
        {
            var found = await (from link in db.RepositoryBlobs.AsNoTracking()
                               join blob in db.Blobs.AsNoTracking() on link.Digest equals blob.Digest
                               where link.RepositoryId == repositoryId && link.Digest == key
                               select new { blob.Size, link.LinkedAt }).FirstOrDefaultAsync(cancellationToken);
            if (found is null) return null;
            if (found.LinkedAt >= now - _renewLinksAfter)
            {
                cache.SetBlobSize(repositoryId, key, found.Size, stamp, _renewLinksAfter);
                return found.Size;
            }
        }
        var renewed = await registryDb.WriteAsync(async db =>
        {
            await ContentLocks.ShareAsync(db, [ContentLocks.BlobKey(key)], cancellationToken);
            return await db.RepositoryBlobs.Where(l => l.RepositoryId == repositoryId && l.Digest == key)
                .ExecuteUpdateAsync(u => u.SetProperty(l => l.LinkedAt, now), cancellationToken);
        }, cancellationToken);
        if (renewed == 0) return null;
        await using var reread = registryDb.Open();
        var size = await reread.Blobs.AsNoTracking().Where(b => b.Digest == key).Select(b => (long?)b.Size).FirstOrDefaultAsync(cancellationToken);
        if (size is { } present) cache.SetBlobSize(repositoryId, key, present, stamp, _renewLinksAfter);
        return size;
    }

    /// <summary>
    /// Loads into the cache the links other instances hinted they made, one query per
    /// repository: the database, not the hint, says whether each exists. Links due for
    /// renewal are left to the next request, which renews them.
    /// </summary>
    public async Task WarmLinksAsync(IReadOnlyCollection<(long RepositoryId, string Digest)> hinted, CancellationToken cancellationToken)
    {
        var renewCutoff = registryDb.Now() - _renewLinksAfter;
        await using var db = registryDb.Open();
        foreach (var repository in hinted.Where(l => cache.GetBlobSize(l.RepositoryId, l.Digest) is null).GroupBy(l => l.RepositoryId))
        {
            var repositoryId = repository.Key;
            var stamps = repository.Select(l => l.Digest).Distinct().ToDictionary(d => d, d => cache.BlobStamp(repositoryId, d));
            foreach (var link in await LiveLinksAsync(db, repositoryId, [.. stamps.Keys], renewCutoff, cancellationToken))
                cache.SetBlobSize(repositoryId, link.Digest, link.Size, stamps[link.Digest], _renewLinksAfter);
        }
    }

    /// <summary>A blob and its size, as <see cref="LiveLinksAsync"/> reads them.</summary>
    private sealed record LinkedBlob(string Digest, long Size);

    /// <summary>
    /// Which of <paramref name="digests"/> the repository links, linked since <paramref name="since"/>, with their sizes.
    /// Written out (<see cref="AnyOf"/>) rather than as a LINQ query, whose digest list and
    /// lambdas EF evaluated anew on every call (docs/architecture.md, Link hints, has the figures).
    /// </summary>
    private static Task<List<LinkedBlob>> LiveLinksAsync(RegistryDbContext db, long repositoryId, string[] digests, DateTime since, CancellationToken cancellationToken)
    {
        List<object> parameters = [repositoryId, since];
        var listed = AnyOf.Condition(db.Database, digests, parameters);
        // Only placeholders go into the text; the values travel as parameters.
        var sql = """
            SELECT r."Digest" AS "Digest", b."Size" AS "Size" FROM "RepositoryBlobs" AS r
            INNER JOIN "Blobs" AS b ON b."Digest" = r."Digest"
            WHERE r."RepositoryId" = {0} AND r."LinkedAt" >= {1} AND r."Digest"
            """ + " " + listed;
        return db.Database.SqlQueryRaw<LinkedBlob>(sql, [.. parameters]).ToListAsync(cancellationToken);
    }

    public async ValueTask<(long Size, BlobReader Reader)> OpenAsync(string repository, Digest digest, CancellationToken cancellationToken)
    {
        var repositoryId = await repositories.FindAsync(repository, cancellationToken)
            ?? throw ErrorCode.NameUnknown.With($"repository '{repository}' is not known", new { name = repository });
        var size = await FindLinkedAsync(repositoryId, digest, cancellationToken)
            ?? throw ErrorCode.BlobUnknown.With($"blob {digest} is not in repository '{repository}'", new { digest = digest.ToString() });
        var reader = await store.OpenReadAsync(digest, cancellationToken)
            ?? throw ErrorCode.BlobUnknown.With($"blob {digest} is missing from storage", new { digest = digest.ToString() });
        return (size, reader);
    }

    /// <summary>
    /// Moves a verified upload to its content address, records the blob, links it to
    /// the repository and ends its upload session (if any), in one transaction under
    /// the blob's lock: garbage collection cannot trash the address between the move
    /// and the row, which would leave a row without bytes.
    /// </summary>
    public async Task CommitUploadAsync(long repositoryId, Guid uploadId, Digest digest, long size, bool endsSession, CancellationToken cancellationToken)
    {
        var key = digest.ToString();
        var actor = actors.Current();
        var now = registryDb.Now();
        var stamp = cache.BlobStamp(repositoryId, key);
        // A repository's id never names another repository, so its cached name serves the event.
        var repository = await repositories.NameOfAsync(repositoryId, cancellationToken);
        await registryDb.WriteAsync(async db =>
        {
            // One command, so one round trip to a database server: the blob's lock, its row, its
            // link, the end of the session and the event. Nobody sees them before the commit, so
            // the bytes move to their address after them, still under the lock.
            List<object> parameters = [repositoryId, key, now, size, uploadId];
            var sql = ContentLocks.ShareSql(db, [ContentLocks.BlobKey(key)], parameters) + RecordBlobSql + LinkSql
                + (endsSession ? EndSessionSql : "")
                + OutboxModel.PublishSql(new BlobUploaded(repository, key, size) { Actor = actor }, parameters);
            await db.Database.ExecuteSqlRawAsync(sql, parameters, cancellationToken);
            await store.CommitUploadAsync(uploadId, digest, size, cancellationToken);
        }, cancellationToken);
        registryDb.Outbox.Wake();
        cache.SetNewBlobLink(repositoryId, key, size, stamp, _renewLinksAfter);
    }

    /// <summary>Links the blob, or renews an existing link: either way garbage collection leaves it for a grace period.</summary>
    private static Task<int> LinkAsync(RegistryDbContext db, long repositoryId, string digest, DateTime now, CancellationToken cancellationToken) =>
        db.Database.ExecuteSqlRawAsync(LinkSql, [repositoryId, digest, now], cancellationToken);

    /// <summary>Parameters: {0} repository id, {1} digest, {2} now.</summary>
    private const string LinkSql = """
        INSERT INTO "RepositoryBlobs" ("RepositoryId", "Digest", "LinkedAt") VALUES ({0}, {1}, {2})
        ON CONFLICT ("RepositoryId", "Digest") DO UPDATE SET "LinkedAt" = excluded."LinkedAt";
        """;

    /// <summary>Parameter {4}: the upload session's id.</summary>
    private const string EndSessionSql = """
        DELETE FROM "UploadSessions" WHERE "Id" = {4};

        """;

    /// <summary>Parameters as <see cref="LinkSql"/>'s, and {3} size; goes before it, which references the blob.</summary>
    private const string RecordBlobSql = """
        INSERT INTO "Blobs" ("Digest", "Size", "CreatedAt") VALUES ({1}, {3}, {2}) ON CONFLICT ("Digest") DO NOTHING;

        """;

    /// <summary>
    /// Links an existing blob into the repository without moving bytes. With
    /// <paramref name="fromRepository"/> the blob must be linked there; without it,
    /// <paramref name="mayReadFrom"/> decides which repositories holding it the caller may read.
    /// Returns the size, or null when the blob cannot be mounted (the client then uploads).
    /// </summary>
    public async Task<long?> MountAsync(long repositoryId, Digest digest, string? fromRepository, Func<string, bool> mayReadFrom, CancellationToken cancellationToken)
    {
        var key = digest.ToString();
        if (cache.GetBlobSize(repositoryId, key) is { } already) return already;
        var stamp = cache.BlobStamp(repositoryId, key);
        await using (var db = registryDb.Open())
        {
            var sources = db.RepositoryBlobs.AsNoTracking().Where(l => l.Digest == key)
                .Join(db.Repositories.AsNoTracking(), l => l.RepositoryId, r => r.Id, (l, r) => r.Name);
            if (fromRepository is not null) sources = sources.Where(name => name == fromRepository);
            var candidates = await sources.OrderBy(name => name).Take(64).ToListAsync(cancellationToken);
            if (!candidates.Any(mayReadFrom)) return null;
        }
        long? known;
        await using (var db = registryDb.Open())
            known = await db.Blobs.AsNoTracking().Where(b => b.Digest == key).Select(b => (long?)b.Size).FirstOrDefaultAsync(cancellationToken);
        if (known is null) return null;
        var charged = await quota.RequireRoomAsync(await repositories.NameOfAsync(repositoryId, cancellationToken), key, known.Value, cancellationToken);
        var size = await registryDb.WriteAsync(async db =>
        {
            await ContentLocks.ShareAsync(db, [ContentLocks.BlobKey(key)], cancellationToken);
            var found = await db.Blobs.Where(b => b.Digest == key).Select(b => (long?)b.Size).FirstOrDefaultAsync(cancellationToken);
            if (found is null) return null;
            await LinkAsync(db, repositoryId, key, registryDb.Now(), cancellationToken);
            return found;
        }, cancellationToken);
        if (size is { } linked)
        {
            cache.SetNewBlobLink(repositoryId, key, linked, stamp, _renewLinksAfter);
            await quota.StoredAsync(charged, linked);
        }
        return size;
    }

    /// <summary>Removes the repository's link; the bytes stay until garbage collection finds them unreferenced.</summary>
    public async Task UnlinkAsync(string repository, Digest digest, CancellationToken cancellationToken)
    {
        var repositoryId = await repositories.FindAsync(repository, cancellationToken)
            ?? throw ErrorCode.NameUnknown.With($"repository '{repository}' is not known", new { name = repository });
        var key = digest.ToString();
        var actor = actors.Current();
        var removed = await registryDb.WriteAsync(async db =>
        {
            var count = await db.RepositoryBlobs.Where(l => l.RepositoryId == repositoryId && l.Digest == key).ExecuteDeleteAsync(cancellationToken);
            if (count > 0)
            {
                db.Publish(new BlobDeleted(repository, key) { Actor = actor });
                await db.SaveChangesAsync(cancellationToken);
            }
            return count;
        }, cancellationToken);
        cache.RemoveBlob(repositoryId, key);
        if (removed == 0)
            throw ErrorCode.BlobUnknown.With($"blob {digest} is not in repository '{repository}'", new { digest = key });
    }
}
