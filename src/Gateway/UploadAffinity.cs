using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Yarp.ReverseProxy.Model;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Berth.Gateway;

/// <summary>
/// Keeps a blob upload on the registry instance that started it. An instance holds
/// an upload's running sha256 and knows the session is its own; a chunk or the final
/// PUT that lands on another instance costs that instance a database look-up, and a
/// final PUT there re-reads and re-hashes every byte staged so far. So the Location of
/// an upload in progress names the instance that answered (by <see cref="TokenOf"/>, in
/// the <see cref="QueryParameter"/> query parameter, which clients carry back as the
/// distribution spec asks them to), and <see cref="UploadAffinityPolicy"/> sends the
/// next request there while it is healthy. Routes opt in with the
/// <see cref="MetadataKey"/> metadata; clusters of one destination are left alone.
/// </summary>
public sealed class UploadAffinity : ITransformProvider
{
    public const string MetadataKey = "UploadAffinity";
    public const string QueryParameter = "_instance";

    private const string UploadsSegment = "/blobs/uploads/";

    private static readonly ConcurrentDictionary<string, string> Tokens = new(StringComparer.Ordinal);

    /// <summary>
    /// How a URL names a destination: a short hash of its id rather than the id, which once
    /// resolved carries the instance's address. Not a secret: naming an instance only
    /// chooses which healthy instance serves an upload's request.
    /// </summary>
    public static string TokenOf(DestinationState destination) =>
        Tokens.GetOrAdd(destination.DestinationId, id => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(id)))[..16]);

    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context)
    {
        if (context.Route.Metadata?.TryGetValue(MetadataKey, out var value) != true || value != "true") return;
        context.AddResponseTransform(NameInstanceAsync);
    }

    /// <summary>Whether <paramref name="path"/> is an upload's (/v2/&lt;name&gt;/blobs/uploads/&lt;id&gt;): only those follow a named instance.</summary>
    public static bool IsUploadPath(PathString path) => path.Value?.Contains(UploadsSegment, StringComparison.Ordinal) == true;

    private static ValueTask NameInstanceAsync(ResponseTransformContext context)
    {
        var response = context.HttpContext.Response;
        // 202: an upload started or a chunk taken; 204: an upload's status. A finished upload's 201 names the blob.
        if (response.StatusCode is not (StatusCodes.Status202Accepted or StatusCodes.Status204NoContent)) return ValueTask.CompletedTask;
        var proxy = context.HttpContext.GetReverseProxyFeature();
        if (proxy.ProxiedDestination is not { } destination || proxy.AllDestinations.Count < 2) return ValueTask.CompletedTask;
        if (response.Headers.Location.ToString() is not { Length: > 0 } location || !location.Contains(UploadsSegment, StringComparison.Ordinal))
            return ValueTask.CompletedTask;
        response.Headers.Location = WithInstance(location, destination);
        return ValueTask.CompletedTask;
    }

    /// <summary><paramref name="location"/> with its query's instance parameter (added, or replaced) naming <paramref name="destination"/>.</summary>
    internal static string WithInstance(string location, DestinationState destination)
    {
        var fragmentAt = location.IndexOf('#');
        var fragment = fragmentAt < 0 ? "" : location[fragmentAt..];
        var rest = fragmentAt < 0 ? location : location[..fragmentAt];
        var queryAt = rest.IndexOf('?');
        var path = queryAt < 0 ? rest : rest[..queryAt];
        var kept = queryAt < 0 ? [] : rest[(queryAt + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Where(pair => !pair.StartsWith(QueryParameter + "=", StringComparison.Ordinal) && pair != QueryParameter);
        var query = string.Join('&', kept.Append($"{QueryParameter}={TokenOf(destination)}"));
        return $"{path}?{query}{fragment}";
    }
}
