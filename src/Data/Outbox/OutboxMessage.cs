namespace Berth.Data.Outbox;

/// <summary>
/// An integration event waiting to be published, written in the same
/// transaction as the change it describes: no change without its event.
/// </summary>
public sealed class OutboxMessage
{
    public Guid Id { get; set; }

    /// <summary>The event's stable wire name (its contract type's full name).</summary>
    public string Type { get; set; } = "";

    public string Payload { get; set; } = "";

    public DateTime OccurredAt { get; set; }

    public DateTime? SentAt { get; set; }

    public int Attempts { get; set; }
}
