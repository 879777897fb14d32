using System.Text.Json;
using Berth.Oci;
using Microsoft.AspNetCore.Http;

namespace Berth.Registry.Http;

/// <summary>Response helpers shared by the /v2 handlers: OCI error JSON and absolute URLs.</summary>
public static class V2Responses
{
    public const string ApiVersionHeader = "Docker-Distribution-API-Version";
    public const string DigestHeader = "Docker-Content-Digest";
    public const string UploadUuidHeader = "Docker-Upload-UUID";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task WriteErrorAsync(HttpContext context, RegistryException error)
    {
        var response = context.Response;
        if (response.HasStarted) return;
        response.StatusCode = error.Status;
        foreach (var (name, value) in error.Headers) response.Headers[name] = value;
        response.ContentType = "application/json";
        var body = JsonSerializer.SerializeToUtf8Bytes(new
        {
            errors = new[] { new { code = error.Code.Code, message = error.Message, detail = error.Detail } },
        }, Json);
        response.ContentLength = body.Length;
        if (!HttpMethods.IsHead(context.Request.Method)) await response.Body.WriteAsync(body, context.RequestAborted);
    }

    public static Task WriteJsonAsync<T>(HttpContext context, T value, string contentType = "application/json")
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(value, Json);
        context.Response.ContentType = contentType;
        context.Response.ContentLength = body.Length;
        return context.Response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    /// <summary>
    /// An absolute URL on this registry as the client reached it. Behind the
    /// gateway the forwarded headers have already replaced scheme and host, so
    /// Location points at the gateway, not at the service.
    /// </summary>
    public static string Url(HttpRequest request, string path) =>
        $"{request.Scheme}://{request.Host}{request.PathBase}{path}";
}
