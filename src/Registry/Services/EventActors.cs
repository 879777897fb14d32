using Berth.Access;
using Berth.Contracts;
using Microsoft.AspNetCore.Http;

namespace Berth.Registry.Services;

/// <summary>
/// Who a registry change is attributed to in its events: the token's subject (or
/// "anonymous" on an open registry), the client's address as the gateway
/// forwarded it, and its user agent. Outside a request it is the system.
/// </summary>
public sealed class EventActors(IHttpContextAccessor http)
{
    public EventActor Current()
    {
        if (http.HttpContext is not { } context) return EventActor.System;
        var subject = context.Features.Get<TokenGrant>()?.Subject;
        var (name, kind) = subject switch
        {
            null or "" => ("anonymous", "anonymous"),
            _ when subject.Contains('+') => (subject, "robot"),
            _ => (subject, "user"),
        };
        var userAgent = context.Request.Headers.UserAgent.ToString();
        return new EventActor(name, kind, context.Connection.RemoteIpAddress?.ToString(), userAgent.Length > 512 ? userAgent[..512] : userAgent)
        {
            RequestId = System.Diagnostics.Activity.Current?.TraceId.ToString() ?? context.TraceIdentifier,
        };
    }
}
