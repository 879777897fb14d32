namespace Berth.AuditLog.Data;

/// <summary>
/// One recorded action. <see cref="Id"/> orders entries as they were recorded (sinks
/// ship in that order); <see cref="EntryId"/> is the id of the event (or, for a batch
/// of pulls, of the pull) it came from, unique, so a redelivered event adds nothing.
/// </summary>
public sealed class AuditEntry
{
    public long Id { get; set; }

    public Guid EntryId { get; set; }

    /// <summary>Quay's action kinds where there is one (push_repo, pull_repo, create_tag, login_failure, …); see <c>AuditKinds</c>.</summary>
    public required string Kind { get; set; }

    /// <summary>The organization or user the action concerns; empty for system-wide actions.</summary>
    public string Namespace { get; set; } = "";

    /// <summary>"namespace/name" when the action concerns a repository.</summary>
    public string? Repository { get; set; }

    public required string Performer { get; set; }

    /// <summary>user, robot, token (an app token), anonymous or system.</summary>
    public required string PerformerKind { get; set; }

    public string? Address { get; set; }

    public string? UserAgent { get; set; }

    public string? RequestId { get; set; }

    public DateTime OccurredAt { get; set; }

    /// <summary>The event's own fields as a JSON object (digest, tag, role, …).</summary>
    public string Metadata { get; set; } = "{}";

    /// <summary>Where the event came from (its type's wire name), for tracing an entry back.</summary>
    public required string SourceEvent { get; set; }
}
