using Grpc.Core;

namespace Berth.Access;

/// <summary>
/// Who is calling a gRPC (or REST-transcoded) API: the request's Authorization
/// header checked by the Auth module. Bad credentials are Unauthenticated;
/// throttled logins are ResourceExhausted with the wait in the message.
/// </summary>
public static class ApiCaller
{
    public static async Task<Caller> AuthenticateAsync(IAccessDirectory directory, ServerCallContext context)
    {
        var http = context.GetHttpContext();
        var authorization = http.Request.Headers.Authorization.ToString();
        var result = await directory.AuthenticateAsync(authorization.Length == 0 ? null : authorization, http.Connection.RemoteIpAddress?.ToString(), context.CancellationToken);
        if (result.Caller is { } caller) return caller;
        if (result.RetryAfter is { } wait)
            throw new RpcException(new Status(StatusCode.ResourceExhausted, $"{result.Failure} (retry in {Math.Ceiling(wait.TotalSeconds)} s)"));
        throw new RpcException(new Status(StatusCode.Unauthenticated, result.Failure ?? "invalid credentials"));
    }

    /// <summary>Refuses a caller below <paramref name="minimum"/>: anonymous callers must log in, others are denied.</summary>
    public static void Require(Caller caller, RepositoryRole role, RepositoryRole minimum, string what)
    {
        if (role >= minimum) return;
        if (caller.IsAnonymous) throw new RpcException(new Status(StatusCode.Unauthenticated, $"log in to {what}"));
        throw new RpcException(new Status(StatusCode.PermissionDenied, $"not allowed to {what}"));
    }
}
