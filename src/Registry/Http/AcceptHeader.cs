using Microsoft.AspNetCore.Http;

namespace Berth.Registry.Http;

/// <summary>The media types a client accepts for a manifest, from one or many Accept headers.</summary>
public sealed class AcceptHeader
{
    private readonly HashSet<string> _types = new(StringComparer.OrdinalIgnoreCase);
    private bool _any;

    public static AcceptHeader From(HttpRequest request)
    {
        var result = new AcceptHeader();
        var declared = false;
        foreach (var header in request.Headers.Accept)
        {
            if (header is null) continue;
            foreach (var part in header.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var semicolon = part.IndexOf(';');
                var type = (semicolon >= 0 ? part[..semicolon] : part).Trim();
                declared |= type.Length > 0;
                // q=0 means "not acceptable" (RFC 9110 12.4.2): such an entry accepts nothing.
                if (semicolon >= 0 && HasZeroQuality(part[(semicolon + 1)..])) continue;
                if (type is "*/*" or "application/*") result._any = true;
                else if (type.Length > 0) result._types.Add(type);
            }
        }
        // No Accept header (or an empty one) accepts anything, as HTTP says.
        if (!declared) result._any = true;
        return result;
    }

    public bool Accepts(string mediaType) => _any || _types.Contains(mediaType);

    private static bool HasZeroQuality(string parameters)
    {
        foreach (var parameter in parameters.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!parameter.StartsWith("q=", StringComparison.OrdinalIgnoreCase)) continue;
            return double.TryParse(parameter[2..], System.Globalization.NumberStyles.AllowDecimalPoint, System.Globalization.CultureInfo.InvariantCulture, out var q) && q == 0;
        }
        return false;
    }
}
