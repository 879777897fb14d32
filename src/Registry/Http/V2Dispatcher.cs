using Berth.Oci;
using Berth.Registry.Access;
using Berth.Registry.Collection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Berth.Registry.Http;

/// <summary>
/// The single entry point for /v2: parses the path, validates the repository
/// name, checks the token (when tokens are required), sends the request to the
/// handler for its route and method, and turns every refusal into OCI error JSON.
/// The checked grant is left in the request's features for handlers that need
/// more than the route's own check (mount sources, catalog filtering).
/// </summary>
public sealed class V2Dispatcher(
    BlobEndpoints blobs,
    UploadEndpoints uploads,
    ManifestEndpoints manifests,
    ListingEndpoints listings,
    ForegroundActivity activity,
    ILogger<V2Dispatcher> logger,
    V2AccessGuard? accessGuard = null)
{
    public async Task HandleAsync(HttpContext context)
    {
        using var inProgress = activity.Begin();
        context.Response.Headers[V2Responses.ApiVersionHeader] = "registry/2.0";
        try
        {
            var path = context.Request.Path.Value ?? "";
            var rest = path.Length > 4 ? path[4..] : "";
            var route = V2Route.Parse(rest);
            if (route.Kind is not (V2RouteKind.Base or V2RouteKind.Catalog or V2RouteKind.NotFound) && !Names.IsValidRepositoryName(route.Name))
                throw ErrorCode.NameInvalid.With($"'{Shorten(route.Name)}' is not a valid repository name", new { name = Shorten(route.Name) });
            if (accessGuard is not null) context.Features.Set(await accessGuard.AuthorizeAsync(context, route));
            await DispatchAsync(context, route);
        }
        catch (RegistryException e)
        {
            await V2Responses.WriteErrorAsync(context, e);
        }
        catch (BadHttpRequestException e)
        {
            // Body larger than allowed, or the client sent less than it declared.
            await V2Responses.WriteErrorAsync(context, e.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? ErrorCode.SizeInvalid.With("request body too large", null, StatusCodes.Status413PayloadTooLarge)
                : ErrorCode.BlobUploadInvalid.With($"bad request: {e.Message}"));
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            logger.LogDebug("client went away during {Method} {Path}", context.Request.Method, context.Request.Path);
        }
    }

    private Task DispatchAsync(HttpContext context, V2Route route)
    {
        var method = context.Request.Method;
        return route.Kind switch
        {
            V2RouteKind.Base when IsRead(method) => WriteBaseAsync(context),
            V2RouteKind.Catalog when IsRead(method) => listings.CatalogAsync(context),
            V2RouteKind.TagsList when IsRead(method) => listings.TagsAsync(context, route.Name),
            V2RouteKind.Referrers when HttpMethods.IsGet(method) => listings.ReferrersAsync(context, route.Name, route.Argument),
            V2RouteKind.Manifest when IsRead(method) => manifests.GetAsync(context, route.Name, route.Argument),
            V2RouteKind.Manifest when HttpMethods.IsPut(method) => WithUnlimitedBody(context, () => manifests.PutAsync(context, route.Name, route.Argument)),
            V2RouteKind.Manifest when HttpMethods.IsDelete(method) => manifests.DeleteAsync(context, route.Name, route.Argument),
            V2RouteKind.Blob when IsRead(method) => blobs.GetAsync(context, route.Name, route.Argument),
            V2RouteKind.Blob when HttpMethods.IsDelete(method) => blobs.DeleteAsync(context, route.Name, route.Argument),
            V2RouteKind.UploadStart when HttpMethods.IsPost(method) => WithUnlimitedBody(context, () => uploads.StartAsync(context, route.Name)),
            V2RouteKind.Upload when HttpMethods.IsPatch(method) => WithUnlimitedBody(context, () => uploads.PatchAsync(context, route.Name, route.Argument)),
            V2RouteKind.Upload when HttpMethods.IsPut(method) => WithUnlimitedBody(context, () => uploads.PutAsync(context, route.Name, route.Argument)),
            V2RouteKind.Upload when HttpMethods.IsGet(method) => uploads.StatusAsync(context, route.Name, route.Argument),
            V2RouteKind.Upload when HttpMethods.IsDelete(method) => uploads.CancelAsync(context, route.Name, route.Argument),
            V2RouteKind.NotFound => throw new RegistryException(ErrorCode.Unsupported, "no such endpoint in the OCI distribution API", null, StatusCodes.Status404NotFound),
            _ => throw ErrorCode.Unsupported.With($"{method} is not supported here"),
        };
    }

    private static bool IsRead(string method) => HttpMethods.IsGet(method) || HttpMethods.IsHead(method);

    /// <summary>
    /// Blob bodies have no size limit (they stream to disk) and manifest bodies are
    /// limited by the handler itself, so it can answer with OCI error JSON.
    /// </summary>
    private static Task WithUnlimitedBody(HttpContext context, Func<Task> handler)
    {
        var feature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (feature is { IsReadOnly: false }) feature.MaxRequestBodySize = null;
        return handler();
    }

    private static Task WriteBaseAsync(HttpContext context) => V2Responses.WriteJsonAsync(context, new { });

    private static string Shorten(string value) => value.Length <= 300 ? value : value[..300] + "…";
}
