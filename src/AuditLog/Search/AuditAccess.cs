using Berth.Access;
using Grpc.Core;
using Microsoft.AspNetCore.Http;

namespace Berth.AuditLog.Search;

/// <summary>
/// Who may read which entries: superusers everything; whoever administers the
/// namespace they ask about (an organization's admins, a user their own) that
/// namespace; anyone signed in, the actions they performed themselves.
/// Anonymous callers see nothing.
/// </summary>
public sealed class AuditAccess(IAccessDirectory? directory = null)
{
    public async Task<AuditFilter> RestrictAsync(HttpContext http, AuditFilter filter, CancellationToken cancellationToken)
    {
        var access = directory
            ?? throw new RpcException(new Status(StatusCode.Unavailable, "the audit log needs the auth module: run it here or set AuditLog:AuthUrl"));
        var authorization = http.Request.Headers.Authorization.ToString();
        var result = await access.AuthenticateAsync(authorization.Length == 0 ? null : authorization, http.Connection.RemoteIpAddress?.ToString(), cancellationToken);
        if (result.Caller is not { } caller)
        {
            if (result.RetryAfter is { } wait)
                throw new RpcException(new Status(StatusCode.ResourceExhausted, $"{result.Failure} (retry in {Math.Ceiling(wait.TotalSeconds)} s)"));
            throw new RpcException(new Status(StatusCode.Unauthenticated, result.Failure ?? "invalid credentials"));
        }
        if (caller.IsAnonymous) throw new RpcException(new Status(StatusCode.Unauthenticated, "log in to read the audit log"));
        if (caller.IsSuperuser) return filter;

        var @namespace = filter.Namespace;
        if (string.IsNullOrEmpty(@namespace) && !string.IsNullOrEmpty(filter.Repository))
            @namespace = Recording.EventMapper.NamespaceOf(filter.Repository);
        if (!string.IsNullOrEmpty(@namespace) && await access.AdministersNamespaceAsync(caller, @namespace, cancellationToken))
            return filter with { Namespace = @namespace };
        return filter with { PerformedBy = caller.Name, PerformedByKind = caller.Kind == CallerKind.Robot ? "robot" : "user" };
    }
}
