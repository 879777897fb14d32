namespace Berth.Contracts;

/// <summary>
/// Consumers that must see every event even when they start after it was published:
/// every process declares their queues with the event exchanges, so a message
/// published before the consumer ever ran waits in its queue instead of being dropped.
/// </summary>
public static class EventSubscribers
{
    public const string AuditLog = "berth-auditlog";

    public static IReadOnlyList<string> Durable { get; } = [AuditLog];
}
