using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Berth.Gateway;

/// <summary>
/// Blob downloads handed from the Server to the gateway when both see the same
/// blob storage (the standalone topology on one host), the way nginx's internal
/// redirect serves files for an application. The Server still decides who may
/// read what and answers with the headers; instead of the bytes it names the
/// blob's file, and the gateway sends that file to the client with sendfile, so
/// large pulls skip the second trip through a socket and through user space.
/// Off unless "Gateway:BlobHandoffRoot" names the shared storage; the gateway
/// always strips the request header from clients so only it can ask for this.
/// </summary>
public sealed class BlobHandoff(IConfiguration configuration, ILogger<BlobHandoff> logger) : ITransformProvider
{
    public const string RequestHeader = "X-Berth-Blob-Handoff";
    public const string FileHeader = "X-Berth-Blob-File";
    public const string MetadataKey = "BlobHandoff";

    private readonly string? _root = configuration["Gateway:BlobHandoffRoot"] is { Length: > 0 } root
        ? Path.TrimEndingDirectorySeparator(Path.GetFullPath(root)) + Path.DirectorySeparatorChar
        : null;

    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context)
    {
        context.AddRequestHeaderRemove(RequestHeader);
        if (_root is null || context.Route.Metadata?.TryGetValue(MetadataKey, out var value) != true || value != "true") return;
        context.AddRequestHeader(RequestHeader, "1", append: false);
        context.AddResponseTransform(SendFileAsync);
    }

    private async ValueTask SendFileAsync(ResponseTransformContext context)
    {
        var response = context.HttpContext.Response;
        if (context.ProxyResponse is null || !context.ProxyResponse.Headers.TryGetValues(FileHeader, out var named)) return;
        response.Headers.Remove(FileHeader);
        context.SuppressResponseBody = true;
        var path = Path.GetFullPath(named.First());
        if (!path.StartsWith(_root!, StringComparison.Ordinal) || !File.Exists(path))
        {
            // Never serve a file outside the shared storage, whatever a service says.
            logger.LogWarning("refused blob handoff for {Path}: not a file under the shared blob root", path);
            response.StatusCode = StatusCodes.Status502BadGateway;
            response.ContentLength = 0;
            return;
        }
        var length = new FileInfo(path).Length;
        response.ContentLength = length;
        await response.SendFileAsync(path, 0, length, context.HttpContext.RequestAborted);
    }
}
