using Berth.AuditLog.Recording;
using Microsoft.EntityFrameworkCore;

namespace Berth.AuditLog.Data;

/// <summary>
/// Reads pulls from the compact pull table as the entries they stand for: the same
/// <see cref="AuditEntry"/>, field for field, that the pull would have been as an entry
/// of its own, metadata and source event included.
/// </summary>
internal static class PullEntryRead
{
    /// <summary>The pulls <paramref name="pulls"/> selects, in its order, as entries.</summary>
    public static async Task<List<AuditEntry>> ToEntriesAsync(AuditLogDbContext db, IQueryable<PullEntry> pulls, CancellationToken cancellationToken)
    {
        var rows = await pulls.AsNoTracking().ToListAsync(cancellationToken);
        if (rows.Count == 0) return [];
        var ids = rows.SelectMany(NameIds).Distinct().ToList();
        // One parameter holding every id: a parameter an id (EF's default) costs SQLite a
        // look-up by name over all the others for each, and a batch may name thousands.
        var names = await db.Names.AsNoTracking().Where(n => EF.Parameter(ids).Contains(n.Id)).ToDictionaryAsync(n => n.Id, n => n.Name, cancellationToken);
        // As the provider gives an entry's time: SQLite keeps no zone, PostgreSQL's timestamptz is UTC.
        var kind = db.Database.IsNpgsql() ? DateTimeKind.Utc : DateTimeKind.Unspecified;
        // Most pulls of a page are of the same few images: their metadata is written once each.
        var metadata = new Dictionary<(int, int, int, int?), string>();
        return [.. rows.Select(row => ToEntry(row, names, metadata, kind))];
    }

    private static IEnumerable<int> NameIds(PullEntry row)
    {
        yield return row.NamespaceId;
        yield return row.RepositoryId;
        yield return row.PerformerId;
        yield return row.PerformerKindId;
        if (row.AddressId is { } address) yield return address;
        if (row.UserAgentId is { } userAgent) yield return userAgent;
        yield return row.DigestId;
        yield return row.MediaTypeId;
        if (row.TagId is { } tag) yield return tag;
    }

    private static AuditEntry ToEntry(PullEntry row, Dictionary<int, string> names, Dictionary<(int, int, int, int?), string> metadata, DateTimeKind kind)
    {
        string Name(int id) => names.TryGetValue(id, out var name) ? name
            : throw new InvalidOperationException($"audit pull {row.Id} refers to name {id}, which the log does not hold");
        var repository = Name(row.RepositoryId);
        var image = (row.RepositoryId, row.DigestId, row.MediaTypeId, row.TagId);
        if (!metadata.TryGetValue(image, out var pulled))
            metadata[image] = pulled = EventMapper.PullMetadata(repository, Name(row.DigestId), Name(row.MediaTypeId), row.TagId is { } tag ? Name(tag) : null);
        return new AuditEntry
        {
            Id = row.Id,
            EntryId = row.EntryId,
            Kind = AuditKinds.PullRepo,
            Namespace = Name(row.NamespaceId),
            Repository = repository,
            Performer = Name(row.PerformerId),
            PerformerKind = Name(row.PerformerKindId),
            Address = row.AddressId is { } address ? Name(address) : null,
            UserAgent = row.UserAgentId is { } userAgent ? Name(userAgent) : null,
            RequestId = row.RequestId,
            OccurredAt = new DateTime(row.OccurredTicks, kind),
            Metadata = pulled,
            SourceEvent = EventMapper.PullSourceEvent,
        };
    }
}
