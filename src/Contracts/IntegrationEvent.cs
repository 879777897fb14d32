namespace Berth.Contracts;

/// <summary>
/// Who caused a change and from where, as every integration event records it
/// so the audit log can answer "who did this, when, from which address".
/// </summary>
public sealed record EventActor(string Name, string Kind, string? Address, string? UserAgent)
{
    /// <summary>The request's trace id, to find the request in traces and logs.</summary>
    public string? RequestId { get; init; }

    /// <summary>A change the system made by itself (start-up, sync, expiry).</summary>
    public static EventActor System { get; } = new("system", "system", null, null);
}

/// <summary>
/// The base of every integration event: a unique id (consumers de-duplicate on
/// it), when it happened and who did it. Events only ever gain optional fields,
/// and their type names are their stable wire names.
/// </summary>
public abstract record IntegrationEvent
{
    /// <summary>Time-ordered (see <see cref="EventIds"/>).</summary>
    public Guid EventId { get; init; } = EventIds.New();

    public DateTimeOffset OccurredAt { get; init; } = DateTimeOffset.UtcNow;

    public required EventActor Actor { get; init; }
}
