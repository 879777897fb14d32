namespace Berth.Access;

/// <summary>
/// What a caller may see in listings: everything (a superuser), or repositories
/// by name plus every repository of some namespaces (their own, organizations
/// they administer). Plain data, so it can cross a process boundary.
/// </summary>
public sealed record ReadableSet(bool All, IReadOnlySet<string> Repositories, IReadOnlySet<string> Namespaces)
{
    public static ReadableSet Everything { get; } = new(true, new HashSet<string>(), new HashSet<string>());

    public bool Contains(string repository)
    {
        if (All || Repositories.Contains(repository)) return true;
        var slash = repository.IndexOf('/');
        return slash > 0 && Namespaces.Contains(repository[..slash]);
    }
}
