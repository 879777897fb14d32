namespace Berth.AuditLog.Data;

/// <summary>How far a sink has durably received the log: every entry with an id up to <see cref="LastShippedId"/>.</summary>
public sealed class SinkCheckpoint
{
    public required string Sink { get; set; }

    public long LastShippedId { get; set; }

    public DateTime UpdatedAt { get; set; }
}
