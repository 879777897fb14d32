using System.Text.RegularExpressions;

namespace Berth.Oci;

/// <summary>The grammar of repository names and tags from the OCI distribution spec.</summary>
public static partial class Names
{
    /// <summary>Distribution caps the full name at 255 characters; we do the same so names move between registries.</summary>
    public const int MaxRepositoryNameLength = 255;

    // Both patterns end in \z, not $: $ also matches before a final "\n", which would let "name%0A" and "tag%0A" through.
    [GeneratedRegex("^[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*)*\\z", RegexOptions.CultureInvariant)]
    private static partial Regex RepositoryNamePattern();

    [GeneratedRegex("^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex TagPattern();

    public static bool IsValidRepositoryName(string name) =>
        name.Length is > 0 and <= MaxRepositoryNameLength && RepositoryNamePattern().IsMatch(name);

    /// <summary>
    /// Control characters (NUL above all, which PostgreSQL text cannot hold) have no
    /// place in names, media types or paging keys; checked before such input reaches a query.
    /// </summary>
    public static bool HasControlCharacters(string value) => value.Any(char.IsControl);

    public static bool IsValidTag(string tag) => tag.Length is > 0 and <= 128 && TagPattern().IsMatch(tag);
}
