using Berth.Contracts;

namespace Berth.AuditLog.Recording;

/// <summary>Who performed an action, as the log's columns hold it: cut to each column's length.</summary>
internal readonly record struct ActorColumns(string Performer, string PerformerKind, string? Address, string? UserAgent, string? RequestId)
{
    public static ActorColumns Of(EventActor actor) => new(
        Truncate(actor.Name, 256)!, Truncate(actor.Kind, 32)!, Truncate(actor.Address, 64), Truncate(actor.UserAgent, 512), Truncate(actor.RequestId, 128));

    private static string? Truncate(string? value, int max) => value is null || value.Length <= max ? value : value[..max];
}
