using System.DirectoryServices.Protocols;
using System.Net;
using System.Text;
using Berth.Auth.Accounts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.Auth.Ldap;

/// <summary>
/// Checks a password by binding to the directory as the user (the password is
/// never read or stored here), then reads their e-mail and the groups that list
/// them as a member (groupOfNames / groupOfUniqueNames).
/// </summary>
public sealed class LdapUserStore(IOptions<AuthOptions> options, ILogger<LdapUserStore> logger) : ILdapUserStore
{
    private const int InvalidCredentials = 49;

    public Task<DirectoryUser?> AuthenticateAsync(string user, string password, CancellationToken cancellationToken)
    {
        // Only names that could be accounts here reach the directory: this also keeps DN and filter syntax out.
        if (!AccountNames.IsValidNamespace(user) || password.Length == 0) return Task.FromResult<DirectoryUser?>(null);
        return Task.Run(() => Authenticate(user, password), cancellationToken);
    }

    private DirectoryUser? Authenticate(string user, string password)
    {
        var settings = options.Value.Ldap;
        var uri = new Uri(settings.Url);
        var userDn = string.Format(System.Globalization.CultureInfo.InvariantCulture, settings.UserDnTemplate, EscapeDnValue(user));
        var secure = string.Equals(uri.Scheme, "ldaps", StringComparison.OrdinalIgnoreCase);
        using var connection = new LdapConnection(new LdapDirectoryIdentifier(uri.Host, uri.Port > 0 ? uri.Port : secure ? 636 : 389))
        {
            AuthType = AuthType.Basic,
            Timeout = TimeSpan.FromSeconds(settings.TimeoutSeconds),
        };
        connection.SessionOptions.ProtocolVersion = 3;
        // ldaps:// means TLS from the first byte: the user's password must not cross the network in clear.
        if (secure) connection.SessionOptions.SecureSocketLayer = true;
        try
        {
            connection.Bind(new NetworkCredential(userDn, password));
        }
        catch (LdapException e) when (e.ErrorCode == InvalidCredentials)
        {
            return null;
        }
        catch (LdapException e)
        {
            logger.LogWarning("LDAP bind for {User} failed: {Error} ({Code})", user, e.Message, e.ErrorCode);
            return null;
        }

        string? email = null;
        var groups = new List<string>();
        try
        {
            var entry = (SearchResponse)connection.SendRequest(new SearchRequest(userDn, "(objectClass=*)", SearchScope.Base, settings.EmailAttribute));
            if (entry.Entries.Count > 0 && entry.Entries[0].Attributes[settings.EmailAttribute] is { Count: > 0 } mail)
                email = mail[0] as string;

            if (settings.GroupSearchBase.Length > 0)
            {
                var escaped = EscapeFilterValue(userDn);
                var filter = $"(|(&(objectClass=groupOfNames)(member={escaped}))(&(objectClass=groupOfUniqueNames)(uniqueMember={escaped})))";
                var found = (SearchResponse)connection.SendRequest(new SearchRequest(settings.GroupSearchBase, filter, SearchScope.Subtree, "cn"));
                foreach (SearchResultEntry group in found.Entries) groups.Add(group.DistinguishedName);
            }
        }
        catch (Exception e) when (e is DirectoryOperationException or LdapException)
        {
            // A search the directory refuses (a wrong GroupSearchBase, an ACL) refuses the login: going on with
            // no groups would take the user out of every linked team, and throwing would answer 500 to every login.
            logger.LogWarning("LDAP search for {User} failed after the bind: {Error}", user, e.Message);
            return null;
        }
        return new DirectoryUser(user, email, groups);
    }

    /// <summary>RFC 4514 escaping of an attribute value inside a DN.</summary>
    internal static string EscapeDnValue(string value)
    {
        var builder = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c is ',' or '+' or '"' or '\\' or '<' or '>' or ';' or '=' || (i == 0 && c is ' ' or '#') || (i == value.Length - 1 && c == ' '))
                builder.Append('\\');
            builder.Append(c);
        }
        return builder.ToString();
    }

    /// <summary>RFC 4515 escaping of a value inside a search filter.</summary>
    internal static string EscapeFilterValue(string value)
    {
        var builder = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            builder.Append(c switch
            {
                '\\' => @"\5c",
                '*' => @"\2a",
                '(' => @"\28",
                ')' => @"\29",
                '\0' => @"\00",
                _ => c.ToString(),
            });
        }
        return builder.ToString();
    }
}
