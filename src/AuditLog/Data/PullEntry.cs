namespace Berth.AuditLog.Data;

/// <summary>
/// One recorded pull (a pull_repo entry), stored compactly: pulls are most of a busy log,
/// so their repeated text (repository, performer, client, digest, …) is kept once in
/// <see cref="AuditName"/> and referred to by id, the time is a number, and the row goes
/// into four small indexes. Read back it is the same <see cref="AuditEntry"/> the pull
/// would have been as a row of its own (<see cref="PullEntryRead"/>). Its <see cref="Id"/>
/// comes from the entry table's sequence, so entries and pulls share one order.
/// </summary>
public sealed class PullEntry
{
    public long Id { get; set; }

    /// <summary>The pull's own event id, unique: a batch of pulls written twice adds nothing the second time.</summary>
    public Guid EntryId { get; set; }

    /// <summary>When the pull happened, as UTC ticks.</summary>
    public long OccurredTicks { get; set; }

    public int NamespaceId { get; set; }

    public int RepositoryId { get; set; }

    public int PerformerId { get; set; }

    public int PerformerKindId { get; set; }

    public int? AddressId { get; set; }

    public int? UserAgentId { get; set; }

    public int DigestId { get; set; }

    public int MediaTypeId { get; set; }

    public int? TagId { get; set; }

    /// <summary>Kept as text: unlike the other fields, no two pulls share it.</summary>
    public string? RequestId { get; set; }
}
