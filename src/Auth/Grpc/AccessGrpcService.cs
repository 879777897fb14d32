using Berth.Access;
using Berth.Access.Api.V1;
using Grpc.Core;

namespace Berth.Auth.Grpc;

/// <summary>
/// Auth's internal AccessService (protos/access.proto): the same answers
/// <see cref="IAccessDirectory"/> gives in-process, for modules in other processes.
/// </summary>
public sealed class AccessGrpcService(IAccessDirectory directory) : AccessService.AccessServiceBase
{
    public override async Task<AuthenticateResponse> Authenticate(AuthenticateRequest request, ServerCallContext context)
    {
        var result = await directory.AuthenticateAsync(request.Authorization.Length == 0 ? null : request.Authorization,
            request.Address.Length == 0 ? null : request.Address, context.CancellationToken);
        return result.Caller is { } caller
            ? new AuthenticateResponse { Caller = CallerMessages.ToMessage(caller) }
            : new AuthenticateResponse { Failure = result.Failure ?? "invalid credentials", RetryAfterSeconds = (int)Math.Ceiling(result.RetryAfter?.TotalSeconds ?? 0) };
    }

    public override async Task<CallerInfo> FindCaller(FindCallerRequest request, ServerCallContext context) =>
        CallerMessages.ToMessage(await directory.FindCallerAsync(request.Subject, context.CancellationToken));

    public override async Task<GetRoleResponse> GetRole(GetRoleRequest request, ServerCallContext context) =>
        new() { Role = (int)await directory.GetRoleAsync(CallerMessages.FromMessage(request.Caller ?? new CallerInfo()), request.Repository, context.CancellationToken) };

    public override async Task<GetReadableResponse> GetReadable(CallerInfo request, ServerCallContext context)
    {
        var readable = await directory.GetReadableAsync(CallerMessages.FromMessage(request), context.CancellationToken);
        var response = new GetReadableResponse { All = readable.All };
        response.Repositories.AddRange(readable.Repositories.Order(StringComparer.Ordinal));
        response.Namespaces.AddRange(readable.Namespaces.Order(StringComparer.Ordinal));
        return response;
    }

    public override async Task<AdministersNamespaceResponse> AdministersNamespace(AdministersNamespaceRequest request, ServerCallContext context) =>
        new() { Administers = await directory.AdministersNamespaceAsync(CallerMessages.FromMessage(request.Caller ?? new CallerInfo()), request.Namespace, context.CancellationToken) };
}
