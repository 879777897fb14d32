using System.ComponentModel.DataAnnotations;
using Berth.Data;

namespace Berth.Auth;

/// <summary>Settings of the Auth module, bound from the "Auth" configuration section.</summary>
public sealed class AuthOptions : IModuleDatabaseOptions
{
    public const string SectionName = "Auth";

    /// <summary>Where the embedded default keeps the accounts database and the first admin's password file.</summary>
    [Required]
    public string DataDirectory { get; set; } = "data";

    /// <summary>"sqlite" (embedded default) or "postgres".</summary>
    [RegularExpression("^(sqlite|postgres)$", ErrorMessage = "Auth:DatabaseProvider must be 'sqlite' or 'postgres'")]
    public string DatabaseProvider { get; set; } = "sqlite";

    public string? ConnectionString { get; set; }

    /// <summary>Anyone, without logging in, may pull public repositories. Off: public means "every signed-in account".</summary>
    public bool AnonymousPull { get; set; } = true;

    /// <summary>
    /// Account passwords are accepted by /v2/auth (docker login). Off, only app
    /// tokens, robot tokens and refresh tokens log in there, so a leaked CLI
    /// credential is never the account password.
    /// </summary>
    public bool PasswordLogin { get; set; } = true;

    /// <summary>How long an offline (refresh) token stays valid.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "365.00:00:00")]
    public TimeSpan RefreshTokenLifetime { get; set; } = TimeSpan.FromDays(30);

    /// <summary>The superuser created when the database has no users.</summary>
    [Required, RegularExpression("^[a-z0-9]+(?:[._-][a-z0-9]+)*$")]
    public string InitialAdmin { get; set; } = "admin";

    /// <summary>Its password; unset, one is generated and written to "initial-admin-password" in the data directory (never logged).</summary>
    public string? InitialAdminPassword { get; set; }

    /// <summary>Failed logins of one account before it is made to wait.</summary>
    [Range(1, 1000)]
    public int FailuresBeforeThrottle { get; set; } = 5;

    /// <summary>
    /// Failed logins from one client address before it is made to wait: higher than
    /// per account, since many users may share an address behind NAT or a CI runner.
    /// </summary>
    [Range(1, 100_000)]
    public int AddressFailuresBeforeThrottle { get; set; } = 50;

    /// <summary>The longest wait a throttled account or address is given (waits double per failure up to this).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan MaxThrottle { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>PBKDF2 rounds for new password hashes. Lower only in tests: every round is protection.</summary>
    [Range(1_000, 10_000_000)]
    public int PasswordHashIterations { get; set; } = Accounts.PasswordHasher.DefaultIterations;

    /// <summary>
    /// Redis (StackExchange.Redis configuration, e.g. "127.0.0.1:6379") for several Auth
    /// instances: each shares its public signing keys there (read by registries) and
    /// announces rotations, so the others pick up a new key at once instead of at their
    /// next database check. Unset: instances converge through the database alone.
    /// </summary>
    public string? Redis { get; set; }

    public LdapOptions Ldap { get; set; } = new();

    public string ResolveConnectionString() =>
        ConnectionString ?? (DatabaseProvider == "sqlite"
            ? $"Data Source={Path.Combine(DataDirectory, "auth.db")}"
            : throw new InvalidOperationException("Auth:ConnectionString is required for the postgres provider"));
}

/// <summary>LDAP as a second user store: bind as the user to check the password, read their groups to sync teams.</summary>
public sealed class LdapOptions
{
    public bool Enabled { get; set; }

    /// <summary>ldap://host:port</summary>
    public string Url { get; set; } = "";

    /// <summary>The user's DN, with {0} for the (escaped) user name, e.g. "uid={0},ou=people,dc=example,dc=org".</summary>
    public string UserDnTemplate { get; set; } = "";

    /// <summary>Where groups are searched for membership (groupOfNames with member=&lt;user DN&gt;).</summary>
    public string GroupSearchBase { get; set; } = "";

    /// <summary>The attribute holding a user's e-mail address.</summary>
    public string EmailAttribute { get; set; } = "mail";

    [Range(1, 120)]
    public int TimeoutSeconds { get; set; } = 10;
}
