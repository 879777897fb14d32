using Berth.Access;
using Berth.Auth.Accounts;
using Berth.Auth.Api.V1;
using Berth.Auth.Data;
using Berth.Contracts;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;

namespace Berth.Auth.Grpc;

/// <summary>
/// The Auth management API (protos/auth.proto). Each area lives in its own
/// part of this class; this part holds what they share: who is calling, the
/// event actor, and the refusals.
/// </summary>
public sealed partial class AuthGrpcService(
    AuthDb authDb,
    IAccessDirectory directory,
    PermissionResolver permissions,
    PasswordHasher hasher,
    Tokens.SigningKeyStore signingKeys) : AuthService.AuthServiceBase
{
    private async Task<Caller> SignedInAsync(ServerCallContext context)
    {
        var caller = await ApiCaller.AuthenticateAsync(directory, context);
        if (caller.IsAnonymous) throw new RpcException(new Status(StatusCode.Unauthenticated, "log in first"));
        return caller;
    }

    private async Task<Caller> SuperuserAsync(ServerCallContext context)
    {
        var caller = await SignedInAsync(context);
        if (!caller.IsSuperuser) throw Denied("only a superuser may do this");
        return caller;
    }

    /// <summary>Credentials are managed with the password, never with an app token (see <see cref="Caller.ViaAppToken"/>).</summary>
    private static Caller WithPassword(Caller caller)
    {
        if (caller.ViaAppToken) throw Denied("log in with the account password to manage passwords, tokens or users");
        return caller;
    }

    /// <summary>Organization admins (and superusers) manage teams, robots and defaults of the organization.</summary>
    private async Task<Caller> NamespaceAdminAsync(ServerCallContext context, string @namespace)
    {
        var caller = await SignedInAsync(context);
        if (caller.Kind == CallerKind.User && caller.Name == @namespace) return caller;
        if (!await permissions.IsOrganizationAdminAsync(caller, @namespace, context.CancellationToken))
            throw Denied($"not an administrator of '{@namespace}'");
        return caller;
    }

    private static EventActor Actor(Caller caller, ServerCallContext context)
    {
        var http = context.GetHttpContext();
        return new EventActor(caller.Name, caller.Kind.ToString().ToLowerInvariant(), http.Connection.RemoteIpAddress?.ToString(), http.Request.Headers.UserAgent.ToString())
        {
            RequestId = System.Diagnostics.Activity.Current?.TraceId.ToString() ?? http.TraceIdentifier,
        };
    }

    private async Task<string> RequireNamespaceKindAsync(string name, string kind, CancellationToken cancellationToken)
    {
        await using var db = authDb.Open();
        var row = await db.Namespaces.AsNoTracking().FirstOrDefaultAsync(n => n.Name == name, cancellationToken);
        if (row is null || (kind.Length > 0 && row.Kind != kind)) throw NotFound($"no {(kind.Length > 0 ? kind : "namespace")} named '{Shorten(name)}'");
        return row.Kind;
    }

    private static RpcException Denied(string message) => new(new Status(StatusCode.PermissionDenied, message));

    private static RpcException NotFound(string message) => new(new Status(StatusCode.NotFound, message));

    private static RpcException Invalid(string message) => new(new Status(StatusCode.InvalidArgument, message));

    private static RpcException Exists(string message) => new(new Status(StatusCode.AlreadyExists, message));

    private static Timestamp? Stamp(DateTime? value) => value is { } v ? Timestamp.FromDateTime(DateTime.SpecifyKind(v, DateTimeKind.Utc)) : null;

    private static string Shorten(string value) => value.Length <= 100 ? value : value[..100] + "…";
}
