namespace Berth.Access;

public enum CallerKind
{
    Anonymous,
    User,
    Robot,
}

/// <summary>Who is asking: an account name (robots are "namespace+name"), its kind, and whether it is a superuser.</summary>
public sealed record Caller(string Name, CallerKind Kind, bool IsSuperuser)
{
    public static Caller Anonymous { get; } = new("", CallerKind.Anonymous, false);

    /// <summary>
    /// Signed in with an app token rather than the password: such a caller may use
    /// the account but not manage its credentials (password, tokens, superusers),
    /// so a leaked token cannot be turned into the account.
    /// </summary>
    public bool ViaAppToken { get; init; }

    public bool IsAnonymous => Kind == CallerKind.Anonymous;

    /// <summary>The token subject for this caller: empty for anonymous.</summary>
    public string Subject => Name;
}

/// <summary>A caller's standing on one repository, from none to admin.</summary>
public enum RepositoryRole
{
    None = 0,
    Read = 1,
    Write = 2,
    Admin = 3,
}
