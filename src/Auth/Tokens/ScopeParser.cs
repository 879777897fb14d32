using Berth.Access;
using Berth.Oci;

namespace Berth.Auth.Tokens;

/// <summary>
/// Reads the scope parameters of a token request. The token spec says a scope
/// the server does not understand is left out of the grant, not an error, so
/// anything malformed is dropped here: unknown types and actions, names outside
/// the OCI grammar (which also rules out "..", wildcards and empty segments),
/// and oversized input.
/// </summary>
public static class ScopeParser
{
    /// <summary>Longer scope strings are not parsed at all: no real name and action list comes close.</summary>
    public const int MaxScopeLength = 512;

    /// <summary>A request naming more scopes than this is cut off here; clients ask for a handful.</summary>
    public const int MaxScopes = 32;

    private static readonly HashSet<string> RepositoryActions = new(StringComparer.Ordinal)
        { ResourceScope.Pull, ResourceScope.Push, ResourceScope.Delete, ResourceScope.All };

    /// <summary>Every well-formed scope in the request (each query value may hold several, space-separated).</summary>
    public static List<ResourceScope> Parse(IEnumerable<string?> scopeParameters)
    {
        var result = new List<ResourceScope>();
        foreach (var parameter in scopeParameters)
        {
            if (string.IsNullOrEmpty(parameter)) continue;
            foreach (var item in parameter.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                if (result.Count == MaxScopes) return Merge(result);
                if (TryParse(item, out var scope)) result.Add(scope);
            }
        }
        return Merge(result);
    }

    public static bool TryParse(string text, out ResourceScope scope)
    {
        scope = null!;
        if (text.Length is 0 or > MaxScopeLength) return false;
        var firstColon = text.IndexOf(':');
        var lastColon = text.LastIndexOf(':');
        if (firstColon <= 0 || lastColon == firstColon) return false;
        var type = text[..firstColon];
        var name = text[(firstColon + 1)..lastColon];
        var actions = text[(lastColon + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries);

        switch (type)
        {
            case ResourceScope.Repository:
                if (!Names.IsValidRepositoryName(name)) return false;
                var known = actions.Where(RepositoryActions.Contains).ToHashSet(StringComparer.Ordinal);
                if (known.Count == 0) return false;
                scope = new ResourceScope(type, name, known);
                return true;
            case ResourceScope.Registry when name == ResourceScope.Catalog && actions.Contains(ResourceScope.All):
                scope = new ResourceScope(type, name, new HashSet<string>(StringComparer.Ordinal) { ResourceScope.All });
                return true;
            default:
                return false;
        }
    }

    /// <summary>The same resource asked for twice becomes one scope with the union of its actions.</summary>
    private static List<ResourceScope> Merge(List<ResourceScope> scopes) =>
        [.. scopes.GroupBy(s => (s.Type, s.Name))
            .Select(g => new ResourceScope(g.Key.Type, g.Key.Name, g.SelectMany(s => s.Actions).ToHashSet(StringComparer.Ordinal)))];
}
