using Berth.Access.Api.V1;

namespace Berth.Access;

/// <summary>
/// <see cref="IAccessDirectory"/> for a module whose process does not run Auth:
/// each question is a call to Auth's internal AccessService. Only listings and
/// the management APIs ask; the /v2 hot path needs no call (the token carries the grant).
/// </summary>
public sealed class RemoteAccessDirectory(AccessService.AccessServiceClient client) : IAccessDirectory
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    public async Task<Authentication> AuthenticateAsync(string? authorization, string? address, CancellationToken cancellationToken)
    {
        var response = await client.AuthenticateAsync(new AuthenticateRequest { Authorization = authorization ?? "", Address = address ?? "" },
            deadline: DateTime.UtcNow + Deadline, cancellationToken: cancellationToken);
        if (response.Caller is { } caller) return new Authentication(CallerMessages.FromMessage(caller), null);
        return new Authentication(null, response.Failure, response.RetryAfterSeconds > 0 ? TimeSpan.FromSeconds(response.RetryAfterSeconds) : null);
    }

    public async Task<Caller> FindCallerAsync(string subject, CancellationToken cancellationToken) =>
        CallerMessages.FromMessage(await client.FindCallerAsync(new FindCallerRequest { Subject = subject },
            deadline: DateTime.UtcNow + Deadline, cancellationToken: cancellationToken));

    public async Task<RepositoryRole> GetRoleAsync(Caller caller, string repository, CancellationToken cancellationToken)
    {
        var response = await client.GetRoleAsync(new GetRoleRequest { Caller = CallerMessages.ToMessage(caller), Repository = repository },
            deadline: DateTime.UtcNow + Deadline, cancellationToken: cancellationToken);
        return Enum.IsDefined((RepositoryRole)response.Role) ? (RepositoryRole)response.Role : RepositoryRole.None;
    }

    public async Task<ReadableSet> GetReadableAsync(Caller caller, CancellationToken cancellationToken)
    {
        var response = await client.GetReadableAsync(CallerMessages.ToMessage(caller), deadline: DateTime.UtcNow + Deadline, cancellationToken: cancellationToken);
        return new ReadableSet(response.All, response.Repositories.ToHashSet(StringComparer.Ordinal), response.Namespaces.ToHashSet(StringComparer.Ordinal));
    }

    public async Task<bool> AdministersNamespaceAsync(Caller caller, string @namespace, CancellationToken cancellationToken) =>
        (await client.AdministersNamespaceAsync(new AdministersNamespaceRequest { Caller = CallerMessages.ToMessage(caller), Namespace = @namespace },
            deadline: DateTime.UtcNow + Deadline, cancellationToken: cancellationToken)).Administers;
}
