using Berth.Access.Api.V1;

namespace Berth.Access;

/// <summary>Callers to and from their wire form in access.proto.</summary>
public static class CallerMessages
{
    public static CallerInfo ToMessage(Caller caller) => new()
    {
        Name = caller.Name,
        Kind = caller.Kind.ToString().ToLowerInvariant(),
        Superuser = caller.IsSuperuser,
        ViaAppToken = caller.ViaAppToken,
    };

    public static Caller FromMessage(CallerInfo message) => message.Kind switch
    {
        "user" => new Caller(message.Name, CallerKind.User, message.Superuser) { ViaAppToken = message.ViaAppToken },
        "robot" => new Caller(message.Name, CallerKind.Robot, false),
        _ => Caller.Anonymous,
    };
}
