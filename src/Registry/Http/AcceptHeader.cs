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
        foreach (var header in request.Headers.Accept)
        {
            if (header is null) continue;
            foreach (var part in header.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var semicolon = part.IndexOf(';');
                var type = (semicolon >= 0 ? part[..semicolon] : part).Trim();
                if (type is "*/*" or "application/*") result._any = true;
                else if (type.Length > 0) result._types.Add(type);
            }
        }
        if (result._types.Count == 0) result._any = true;
        return result;
    }

    public bool Accepts(string mediaType) => _any || _types.Contains(mediaType);
}
