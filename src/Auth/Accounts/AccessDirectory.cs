using Berth.Access;
using Berth.Auth.Data;
using Microsoft.EntityFrameworkCore;

namespace Berth.Auth.Accounts;

/// <summary>The Auth module answering other modules in the same process (see <see cref="IAccessDirectory"/>).</summary>
public sealed class AccessDirectory(AuthDb authDb, CredentialVerifier credentials, PermissionResolver permissions) : IAccessDirectory
{
    public Task<Authentication> AuthenticateAsync(string? authorization, string? address, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(authorization)) return Task.FromResult(new Authentication(Caller.Anonymous, null));
        if (BasicCredentials.TryParse(authorization, out var user, out var secret))
            return credentials.VerifyAsync(user, secret, address, LoginChannel.Api, cancellationToken);
        // A bearer secret on the API is an app token (as Quay's OAuth tokens are used).
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return credentials.VerifyAsync(CredentialVerifier.AppTokenUser, authorization[7..].Trim(), address, LoginChannel.Api, cancellationToken);
        return Task.FromResult(new Authentication(null, "unsupported authorization scheme; use Basic or Bearer"));
    }

    public async Task<Caller> FindCallerAsync(string subject, CancellationToken cancellationToken)
    {
        if (subject.Length == 0) return Caller.Anonymous;
        if (AccountNames.IsRobot(subject)) return new Caller(subject, CallerKind.Robot, false);
        await using var db = authDb.Open();
        var superuser = await db.Users.AsNoTracking().Where(u => u.Name == subject && u.Enabled).Select(u => u.IsSuperuser).FirstOrDefaultAsync(cancellationToken);
        return new Caller(subject, CallerKind.User, superuser);
    }

    public Task<RepositoryRole> GetRoleAsync(Caller caller, string repository, CancellationToken cancellationToken) =>
        permissions.GetRoleAsync(caller, repository, cancellationToken);

    public Task<ReadableSet> GetReadableAsync(Caller caller, CancellationToken cancellationToken) =>
        permissions.GetReadableAsync(caller, cancellationToken);

    public Task<bool> AdministersNamespaceAsync(Caller caller, string @namespace, CancellationToken cancellationToken) =>
        permissions.IsOrganizationAdminAsync(caller, @namespace, cancellationToken);
}
