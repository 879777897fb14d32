using System.Globalization;

namespace Berth.Registry.Services;

/// <summary>The inclusive byte range a PATCH chunk claims: "start-end" (an optional "bytes " prefix is tolerated).</summary>
public readonly record struct ContentRange(long Start, long End)
{
    public long Length => End - Start + 1;

    public static bool TryParse(string? value, out ContentRange range)
    {
        range = default;
        if (string.IsNullOrWhiteSpace(value)) return false;
        var text = value.Trim();
        if (text.StartsWith("bytes", StringComparison.OrdinalIgnoreCase)) text = text[5..].TrimStart(' ', '=');
        var slash = text.IndexOf('/');
        if (slash >= 0) text = text[..slash];
        var dash = text.IndexOf('-');
        if (dash <= 0) return false;
        if (!long.TryParse(text.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out var start)) return false;
        if (!long.TryParse(text.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var end)) return false;
        // end = long.MaxValue would overflow Length; no real chunk is that big.
        if (end < start || end == long.MaxValue) return false;
        range = new ContentRange(start, end);
        return true;
    }
}
