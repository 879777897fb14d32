using Berth.Data;
using Berth.Registry.Data;
using Microsoft.EntityFrameworkCore;

namespace Berth.Registry.Collection;

/// <summary>
/// The locks that keep online garbage collection from deleting what a push is
/// about to reference. Writers that make something reachable (a manifest naming
/// blobs and child manifests, an upload or mount linking a blob, a tag pointing
/// at a manifest) take the lock of each thing they name <em>shared</em>, check it
/// still exists and write their reference, all in one transaction. The collector
/// takes the same lock <em>exclusive</em>, re-checks that nothing references the
/// thing, and deletes it, also in one transaction. Whichever commits first wins
/// and the other sees its result: the push fails cleanly with "unknown blob", or
/// the collector finds the new reference and keeps the blob.
///
/// On PostgreSQL these are transaction-scoped advisory locks, so they work across
/// registry instances, and every statement after taking them reads a fresh
/// snapshot (READ COMMITTED) that includes what the other side committed. On
/// SQLite the write gate already runs one write transaction at a time, so the
/// locks are no-ops there.
/// </summary>
public static class ContentLocks
{
    /// <summary>The lock of a blob: per digest, whatever repository links it.</summary>
    public static long BlobKey(string digest) => LockKeys.Of("blob\n" + digest);

    /// <summary>The lock of a manifest row: per repository and digest.</summary>
    public static long ManifestKey(long repositoryId, string digest) => LockKeys.Of($"manifest\n{repositoryId}\n{digest}");

    public static Task ShareAsync(RegistryDbContext db, IEnumerable<long> keys, CancellationToken cancellationToken) =>
        TakeAsync(db, "pg_advisory_xact_lock_shared", keys, cancellationToken);

    /// <summary>
    /// The statement that takes the locks shared, to put first in a command of several
    /// statements (one round trip); its parameter goes to the end of <paramref name="parameters"/>.
    /// Empty on SQLite.
    /// </summary>
    public static string ShareSql(RegistryDbContext db, IEnumerable<long> keys, List<object> parameters) =>
        LockSql(db, "pg_advisory_xact_lock_shared", keys, parameters);

    public static Task ExclusiveAsync(RegistryDbContext db, IEnumerable<long> keys, CancellationToken cancellationToken) =>
        TakeAsync(db, "pg_advisory_xact_lock", keys, cancellationToken);

    private static async Task TakeAsync(RegistryDbContext db, string lockFunction, IEnumerable<long> keys, CancellationToken cancellationToken)
    {
        List<object> parameters = [];
        if (LockSql(db, lockFunction, keys, parameters) is { Length: > 0 } sql)
            await db.Database.ExecuteSqlRawAsync(sql, parameters, cancellationToken);
    }

    private static string LockSql(RegistryDbContext db, string lockFunction, IEnumerable<long> keys, List<object> parameters)
    {
        if (Ordered(db, keys) is not { Length: > 0 } ordered) return "";
        parameters.Add(ordered);
        return $"SELECT count({lockFunction}(k)) FROM (SELECT k FROM unnest({{{parameters.Count - 1}}}::bigint[]) AS k ORDER BY k) AS ordered_keys;\n";
    }

    /// <summary>Always ascending, so two transactions taking overlapping sets cannot deadlock; none on SQLite.</summary>
    private static long[]? Ordered(RegistryDbContext db, IEnumerable<long> keys) =>
        db.Database.IsNpgsql() ? [.. keys.Distinct().Order()] : null;
}
