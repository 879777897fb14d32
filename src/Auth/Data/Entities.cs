namespace Berth.Auth.Data;

/// <summary>
/// A name a user or an organization owns. Users and organizations share one
/// namespace space, so "acme" cannot be both; the unique key settles races.
/// </summary>
public sealed class NamespaceRow
{
    public string Name { get; set; } = "";

    /// <summary>"user" or "organization".</summary>
    public string Kind { get; set; } = "";

    public DateTime CreatedAt { get; set; }
}

public sealed class UserRow
{
    public string Name { get; set; } = "";

    public string? Email { get; set; }

    /// <summary>A versioned hash (see PasswordHasher); null for accounts from LDAP, which check passwords there.</summary>
    public string? PasswordHash { get; set; }

    /// <summary>"local" or "ldap".</summary>
    public string Source { get; set; } = "local";

    public bool IsSuperuser { get; set; }

    public bool Enabled { get; set; } = true;

    public DateTime CreatedAt { get; set; }
}

public sealed class TeamRow
{
    public long Id { get; set; }

    public string Organization { get; set; } = "";

    public string Name { get; set; } = "";

    /// <summary>"member", "creator" or "admin".</summary>
    public string Role { get; set; } = "member";

    /// <summary>The LDAP group whose members this team mirrors at each login, if any.</summary>
    public string? LdapGroup { get; set; }

    public DateTime CreatedAt { get; set; }
}

public sealed class TeamMemberRow
{
    public long TeamId { get; set; }

    public string User { get; set; } = "";
}

public sealed class RobotRow
{
    /// <summary>"namespace+name".</summary>
    public string Name { get; set; } = "";

    public string Namespace { get; set; } = "";

    /// <summary>SHA-256 of the token: tokens are 256 random bits, so a fast hash is enough and login stays cheap.</summary>
    public byte[] TokenHash { get; set; } = [];

    public DateTime CreatedAt { get; set; }
}

public sealed class AppTokenRow
{
    /// <summary>A public id to list and revoke by; the secret itself is only ever shown once.</summary>
    public string Id { get; set; } = "";

    public string User { get; set; } = "";

    public string Title { get; set; } = "";

    public byte[] TokenHash { get; set; } = [];

    public DateTime CreatedAt { get; set; }

    public DateTime? ExpiresAt { get; set; }

    public DateTime? RevokedAt { get; set; }

    public DateTime? LastUsedAt { get; set; }
}

/// <summary>Auth's record of a repository: who made it and whether anyone may pull it.</summary>
public sealed class RepositoryRow
{
    public string Name { get; set; } = "";

    public string Namespace { get; set; } = "";

    /// <summary>"private" or "public".</summary>
    public string Visibility { get; set; } = "private";

    public DateTime CreatedAt { get; set; }
}

/// <summary>A role on one repository for a user, a team or a robot.</summary>
public sealed class PermissionRow
{
    public long Id { get; set; }

    public string Repository { get; set; } = "";

    /// <summary>"user", "team" or "robot".</summary>
    public string SubjectKind { get; set; } = "";

    /// <summary>A user name, a team id, or a robot name.</summary>
    public string Subject { get; set; } = "";

    /// <summary>"read", "write" or "admin".</summary>
    public string Role { get; set; } = "";
}

/// <summary>A permission every new repository of an organization starts with.</summary>
public sealed class DefaultPermissionRow
{
    public long Id { get; set; }

    public string Organization { get; set; } = "";

    public string SubjectKind { get; set; } = "";

    public string Subject { get; set; } = "";

    public string Role { get; set; } = "";
}

/// <summary>Failed logins for one key ("account:&lt;name&gt;" or "address:&lt;ip&gt;"), shared by every Auth instance.</summary>
public sealed class LoginFailureRow
{
    public string Key { get; set; } = "";

    public int Failures { get; set; }

    public DateTime LastFailureAt { get; set; }

    public DateTime? BlockedUntil { get; set; }
}

/// <summary>A long-lived OAuth2 refresh token ("offline" login), stored as a hash.</summary>
public sealed class RefreshTokenRow
{
    public byte[] TokenHash { get; set; } = [];

    public string Account { get; set; } = "";

    public string ClientId { get; set; } = "";

    public DateTime CreatedAt { get; set; }

    public DateTime ExpiresAt { get; set; }
}

/// <summary>A token signing key kept across restarts; retired keys carry the end of their verification grace.</summary>
public sealed class SigningKeyRow
{
    public string KeyId { get; set; } = "";

    public byte[] PrivateKey { get; set; } = [];

    public DateTime CreatedAt { get; set; }

    public DateTime? VerifiesUntil { get; set; }
}
