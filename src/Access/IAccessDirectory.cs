namespace Berth.Access;

/// <summary>The outcome of checking credentials: a caller, or why not (and, when throttled, how long to wait).</summary>
public sealed record Authentication(Caller? Caller, string? Failure, TimeSpan? RetryAfter = null)
{
    public bool Succeeded => Caller is not null;
}

/// <summary>
/// What other modules ask the Auth module: who a request's credentials belong
/// to and what that caller may do with a repository. In one process it is Auth
/// itself; a distributed registry would call Auth's API. The /v2 hot path
/// needs none of it: the token carries the grant.
/// </summary>
public interface IAccessDirectory
{
    /// <summary>Checks an Authorization header (Basic, or Bearer with an app token); no header is the anonymous caller.</summary>
    Task<Authentication> AuthenticateAsync(string? authorization, string? address, CancellationToken cancellationToken);

    /// <summary>The caller named by a token's subject (empty: anonymous).</summary>
    Task<Caller> FindCallerAsync(string subject, CancellationToken cancellationToken);

    Task<RepositoryRole> GetRoleAsync(Caller caller, string repository, CancellationToken cancellationToken);

    /// <summary>Which repositories the caller may see in listings (catalog, search).</summary>
    Task<ReadableSet> GetReadableAsync(Caller caller, CancellationToken cancellationToken);

    /// <summary>Whether the caller administers the namespace: their own, an organization they are an admin of, or any as a superuser.</summary>
    Task<bool> AdministersNamespaceAsync(Caller caller, string @namespace, CancellationToken cancellationToken);
}
