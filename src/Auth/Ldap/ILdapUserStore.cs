namespace Berth.Auth.Ldap;

/// <summary>A user as the directory describes them after a successful bind: their e-mail and the DNs of their groups.</summary>
public sealed record DirectoryUser(string Name, string? Email, IReadOnlyList<string> GroupDns);

/// <summary>An external store that checks passwords itself (LDAP). Null when the password is wrong or the user unknown.</summary>
public interface ILdapUserStore
{
    Task<DirectoryUser?> AuthenticateAsync(string user, string password, CancellationToken cancellationToken);
}
