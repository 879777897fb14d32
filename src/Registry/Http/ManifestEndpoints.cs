using System.Buffers;
using System.Text.Json;
using Berth.Contracts.Registry;
using Berth.Oci;
using Berth.Registry.Services;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Berth.Registry.Http;

/// <summary>GET, HEAD, PUT and DELETE of /v2/&lt;name&gt;/manifests/&lt;reference&gt;.</summary>
public sealed class ManifestEndpoints(
    ManifestService manifests, RegistryMetrics metrics, PullEventQueue pulls, PullTimes pullTimes, EventActors actors, IOptions<RegistryOptions> options)
{
    public async Task GetAsync(HttpContext context, string repository, string referenceText)
    {
        var reference = ManifestReference.Parse(referenceText);
        var manifest = await manifests.GetAsync(repository, reference, context.RequestAborted);
        var accept = AcceptHeader.From(context.Request);
        if (!accept.Accepts(manifest.MediaType))
            manifest = await NegotiateAsync(manifest, accept, context.RequestAborted)
                ?? throw ErrorCode.ManifestUnknown.With(
                    $"manifest '{reference}' is {manifest.MediaType}, which the Accept header does not allow",
                    new { reference = reference.ToString(), mediaType = manifest.MediaType });

        var response = context.Response;
        response.ContentType = manifest.MediaType;
        response.ContentLength = manifest.Content.Length;
        response.Headers[V2Responses.DigestHeader] = manifest.Digest;
        response.Headers.ETag = $"\"{manifest.Digest}\"";
        metrics.ManifestServed();
        if (HttpMethods.IsHead(context.Request.Method)) return;
        await response.Body.WriteAsync(manifest.Content, context.RequestAborted);
        pullTimes.Record(manifest.RepositoryId, reference.Tag, manifest.Id);
        if (options.Value.PullEvents)
            pulls.Record(new ManifestPulled(repository, manifest.Digest, manifest.MediaType, reference.Tag) { Actor = actors.Current() });
    }

    /// <summary>
    /// A client that does not accept indexes but accepts image manifests gets the
    /// linux/amd64 image of an index, as distribution does for older clients.
    /// </summary>
    private async Task<ManifestView?> NegotiateAsync(ManifestView manifest, AcceptHeader accept, CancellationToken cancellationToken)
    {
        if (!MediaTypes.IsIndex(manifest.MediaType)) return null;
        var index = ManifestParser.Parse(manifest.Content, manifest.MediaType);
        var child = index.Children.FirstOrDefault(c => c.Platform is { Os: "linux", Architecture: "amd64" } && accept.Accepts(c.MediaType));
        if (child is null) return null;
        return await manifests.GetAsync(manifest.RepositoryId, new ManifestReference(null, child.Digest), cancellationToken);
    }

    public async Task PutAsync(HttpContext context, string repository, string referenceText)
    {
        var reference = ManifestReference.Parse(referenceText);
        var content = await ReadBoundedAsync(context.Request, options.Value.MaxManifestBytes, context.RequestAborted);
        var result = await manifests.PutAsync(repository, reference, content, context.Request.ContentType, context.RequestAborted);
        var response = context.Response;
        response.StatusCode = StatusCodes.Status201Created;
        response.Headers.Location = V2Responses.Url(context.Request, $"/v2/{repository}/manifests/{result.Digest}");
        response.Headers[V2Responses.DigestHeader] = result.Digest.ToString();
        if (result.SubjectDigest is not null) response.Headers["OCI-Subject"] = result.SubjectDigest;
        response.ContentLength = 0;
    }

    public async Task DeleteAsync(HttpContext context, string repository, string referenceText)
    {
        var reference = ManifestReference.Parse(referenceText);
        await manifests.DeleteAsync(repository, reference, context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status202Accepted;
        context.Response.ContentLength = 0;
    }

    /// <summary>Reads the whole body, refusing with 413 as soon as it is known to exceed the limit.</summary>
    private static async Task<byte[]> ReadBoundedAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit) throw TooLarge(limit);
        var buffer = new ArrayBufferWriter<byte>((int)(request.ContentLength ?? 16 * 1024) + 1);
        while (true)
        {
            var memory = buffer.GetMemory(16 * 1024);
            var read = await request.Body.ReadAsync(memory, cancellationToken);
            if (read == 0) break;
            buffer.Advance(read);
            if (buffer.WrittenCount > limit) throw TooLarge(limit);
        }
        if (buffer.WrittenCount == 0) throw ErrorCode.ManifestInvalid.With("manifest body is empty");
        return buffer.WrittenSpan.ToArray();
    }

    private static RegistryException TooLarge(int limit) =>
        ErrorCode.SizeInvalid.With($"manifest is larger than the {limit} bytes this registry accepts", new { limit }, StatusCodes.Status413PayloadTooLarge);
}
