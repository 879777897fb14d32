namespace Berth.Data.Inbox;

/// <summary>An event a consumer has handled, recorded in the same transaction as what handling it changed.</summary>
public sealed class InboxMessage
{
    public Guid EventId { get; set; }

    /// <summary>Which consumer handled it: one event may matter to several consumers of a module.</summary>
    public string Consumer { get; set; } = "";

    public DateTime ProcessedAt { get; set; }
}
