using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Model;

namespace Berth.Gateway;

/// <summary>
/// Request body limits per route, read from the route's metadata
/// ("MaxRequestBodySize": a byte count, or "unlimited"). Blob routes stream any
/// size; everything else keeps a limit so a stray client cannot push gigabytes
/// into an API that expects a small JSON document.
/// </summary>
public static class RouteBodyLimits
{
    public const string MetadataKey = "MaxRequestBodySize";
    public const string Unlimited = "unlimited";

    public static Task ApplyAsync(HttpContext context, Func<Task> next)
    {
        var route = context.GetReverseProxyFeature().Route.Config;
        if (route.Metadata?.TryGetValue(MetadataKey, out var value) == true)
        {
            var feature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
            // A bad value (a config reload can bring one) keeps the server's default limit rather than failing requests.
            if (feature is { IsReadOnly: false } && TryRead(value, out var limit)) feature.MaxRequestBodySize = limit;
        }
        return next();
    }

    private static bool TryRead(string value, out long? limit)
    {
        limit = null;
        if (value == Unlimited) return true;
        if (!long.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var bytes)) return false;
        limit = bytes;
        return true;
    }

    /// <summary>Checked at start so a typo in configuration fails loudly instead of silently keeping the default.</summary>
    public static void Validate(IEnumerable<Yarp.ReverseProxy.Configuration.RouteConfig> routes)
    {
        foreach (var route in routes)
        {
            if (route.Metadata?.TryGetValue(MetadataKey, out var value) != true || value is null) continue;
            if (!TryRead(value, out _))
                throw new InvalidOperationException($"route '{route.RouteId}': {MetadataKey} must be a byte count or '{Unlimited}', not '{value}'");
        }
    }
}
