using Berth.Oci;
using Berth.Registry.Services;
using Microsoft.AspNetCore.Http;

namespace Berth.Registry.Http;

/// <summary>GET, HEAD and DELETE of /v2/&lt;name&gt;/blobs/&lt;digest&gt;.</summary>
public sealed class BlobEndpoints(BlobService blobs, RegistryMetrics metrics, Microsoft.Extensions.Options.IOptions<RegistryOptions> options)
{
    public async Task GetAsync(HttpContext context, string repository, string digestText)
    {
        var digest = ParseDigest(digestText);
        var (size, reader) = await blobs.OpenAsync(repository, digest, context.RequestAborted);
        await using var _ = reader;
        var response = context.Response;
        response.Headers[V2Responses.DigestHeader] = digest.ToString();
        response.Headers.ETag = $"\"{digest}\"";
        response.Headers.CacheControl = "max-age=31536000";
        if (HttpMethods.IsHead(context.Request.Method))
        {
            response.ContentType = MediaTypes.OctetStream;
            response.ContentLength = size;
            response.Headers.AcceptRanges = "bytes";
            return;
        }
        if (reader.LocalPath is { } handoffPath && options.Value.BlobHandoff && IsWholeBlobHandoff(context.Request))
        {
            // The gateway shares the storage and sends the file itself; we answer with everything but the bytes.
            // No body here, so no Content-Length of the blob: the gateway sets it from the file.
            response.ContentType = MediaTypes.OctetStream;
            response.ContentLength = 0;
            response.Headers.AcceptRanges = "bytes";
            response.Headers[HandoffFileHeader] = Path.GetFullPath(handoffPath);
            metrics.BlobServed(size);
            return;
        }
        // Range, If-Range and 416 come from the framework's file result; the file is sent with sendfile.
        IResult result = reader.LocalPath is { } path
            ? TypedResults.PhysicalFile(path, MediaTypes.OctetStream, enableRangeProcessing: true)
            : TypedResults.Stream(reader.Stream!, MediaTypes.OctetStream, enableRangeProcessing: true);
        await result.ExecuteAsync(context);
        metrics.BlobServed(response.ContentLength ?? size);
    }

    public const string HandoffRequestHeader = "X-Berth-Blob-Handoff";
    public const string HandoffFileHeader = "X-Berth-Blob-File";

    /// <summary>Only whole-blob GETs are handed off; ranges and conditionals are answered here.</summary>
    private static bool IsWholeBlobHandoff(HttpRequest request) =>
        request.Headers[HandoffRequestHeader] == "1" && request.Headers.Range.Count == 0 && request.Headers.IfRange.Count == 0;

    public async Task DeleteAsync(HttpContext context, string repository, string digestText)
    {
        var digest = ParseDigest(digestText);
        await blobs.UnlinkAsync(repository, digest, context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status202Accepted;
        context.Response.ContentLength = 0;
    }

    public static Digest ParseDigest(string text) =>
        Digest.TryParse(text, out var digest)
            ? digest.Value
            : throw ErrorCode.DigestInvalid.With($"'{(text.Length > 140 ? text[..140] : text)}' is not a valid digest (sha256 or sha512, lower-case hex)");
}
