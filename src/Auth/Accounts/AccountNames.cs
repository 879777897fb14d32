using System.Text.RegularExpressions;

namespace Berth.Auth.Accounts;

/// <summary>
/// What names accounts may have. User and organization names are the first
/// component of repository names, so they follow the OCI path-component
/// grammar; robots are "namespace+name"; teams are short identifiers.
/// </summary>
public static partial class AccountNames
{
    public const int MaxLength = 255;

    [GeneratedRegex(@"^[a-z0-9]+(?:[._-][a-z0-9]+)*\z")]
    private static partial Regex NamespacePattern();

    [GeneratedRegex(@"^[a-z][a-z0-9_]{0,63}\z")]
    private static partial Regex ShortNamePattern();

    public static bool IsValidNamespace(string? name) => name is { Length: >= 2 and <= MaxLength } && NamespacePattern().IsMatch(name);

    /// <summary>Team names and the part of a robot name after the "+".</summary>
    public static bool IsValidShortName(string? name) => name is not null && ShortNamePattern().IsMatch(name);

    public static bool IsRobot(string name) => name.Contains('+');

    public static string RobotName(string @namespace, string shortName) => $"{@namespace}+{shortName}";

    /// <summary>The namespace a repository belongs to: its first path component, or none for a single-component name.</summary>
    public static string? NamespaceOf(string repository)
    {
        var slash = repository.IndexOf('/');
        return slash > 0 ? repository[..slash] : null;
    }
}
