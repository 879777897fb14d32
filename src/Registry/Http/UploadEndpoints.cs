using Berth.Access;
using Berth.Oci;
using Berth.Registry.Services;
using Microsoft.AspNetCore.Http;

namespace Berth.Registry.Http;

/// <summary>/v2/&lt;name&gt;/blobs/uploads/: monolithic, chunked and streamed uploads, mounts, status and cancel.</summary>
public sealed class UploadEndpoints(RepositoryDirectory repositories, UploadService uploads, BlobService blobs)
{
    public async Task StartAsync(HttpContext context, string repository)
    {
        var request = context.Request;
        var cancellationToken = context.RequestAborted;
        // Validate everything first: a refused request must not leave an empty repository behind.
        Digest? mount = request.Query.TryGetValue("mount", out var mountValue) ? BlobEndpoints.ParseDigest(mountValue.ToString()) : null;
        string? from = request.Query.TryGetValue("from", out var fromValue) ? fromValue.ToString() : null;
        if (mount is not null && from is not null && !Names.IsValidRepositoryName(from))
            throw ErrorCode.NameInvalid.With($"mount source '{(from.Length > 300 ? from[..300] : from)}' is not a valid repository name", new { name = from.Length > 300 ? from[..300] : from });
        Digest? whole = mount is null && request.Query.TryGetValue("digest", out var digestValue) ? BlobEndpoints.ParseDigest(digestValue.ToString()) : null;
        var repositoryId = await repositories.GetOrCreateAsync(repository, cancellationToken);

        if (mount is { } digest)
        {
            // A blob is only mounted from a repository the caller may pull; otherwise this is a plain upload.
            var grant = context.Features.Get<TokenGrant>();
            var size = await blobs.MountAsync(repositoryId, digest, from,
                source => grant is null || grant.Allows(ResourceScope.Repository, source, ResourceScope.Pull), cancellationToken);
            if (size is not null)
            {
                WriteCreated(context, repository, digest);
                return;
            }
        }
        else if (whole is { } wholeDigest)
        {
            await uploads.UploadWholeAsync(repositoryId, wholeDigest, request.Body, request.ContentLength, cancellationToken);
            WriteCreated(context, repository, wholeDigest);
            return;
        }

        var uploadId = await uploads.StartAsync(repositoryId, cancellationToken);
        WriteProgress(context, repository, uploadId, 0, StatusCodes.Status202Accepted);
    }

    public async Task PatchAsync(HttpContext context, string repository, string uploadText)
    {
        var (repositoryId, uploadId) = await ResolveAsync(context, repository, uploadText);
        var request = context.Request;
        ContentRange? range = null;
        if (request.Headers.ContentRange.Count > 0)
        {
            if (!ContentRange.TryParse(request.Headers.ContentRange.ToString(), out var parsed))
                throw ErrorCode.BlobUploadInvalid.With($"Content-Range '{request.Headers.ContentRange}' is not <start>-<end>", null, StatusCodes.Status416RangeNotSatisfiable);
            range = parsed;
        }
        var size = await uploads.AppendAsync(repositoryId, uploadId, request.Body, range, request.ContentLength, context.RequestAborted);
        WriteProgress(context, repository, uploadId, size, StatusCodes.Status202Accepted);
    }

    public async Task PutAsync(HttpContext context, string repository, string uploadText)
    {
        var (repositoryId, uploadId) = await ResolveAsync(context, repository, uploadText);
        var request = context.Request;
        if (!request.Query.TryGetValue("digest", out var digestValue))
            throw ErrorCode.DigestInvalid.With("the digest query parameter is required to finish an upload");
        var digest = BlobEndpoints.ParseDigest(digestValue.ToString());
        await uploads.FinishAsync(repositoryId, uploadId, digest, request.Body, request.ContentLength, context.RequestAborted);
        WriteCreated(context, repository, digest);
    }

    public async Task StatusAsync(HttpContext context, string repository, string uploadText)
    {
        var (repositoryId, uploadId) = await ResolveAsync(context, repository, uploadText);
        var size = await uploads.GetSizeAsync(repositoryId, uploadId, context.RequestAborted);
        WriteProgress(context, repository, uploadId, size, StatusCodes.Status204NoContent);
    }

    public async Task CancelAsync(HttpContext context, string repository, string uploadText)
    {
        var (repositoryId, uploadId) = await ResolveAsync(context, repository, uploadText);
        await uploads.CancelAsync(repositoryId, uploadId, context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private async Task<(long RepositoryId, Guid UploadId)> ResolveAsync(HttpContext context, string repository, string uploadText)
    {
        if (!Guid.TryParseExact(uploadText, "N", out var uploadId) && !Guid.TryParseExact(uploadText, "D", out uploadId))
            throw ErrorCode.BlobUploadUnknown.With("upload id is not one this registry issued", new { uuid = uploadText.Length > 64 ? uploadText[..64] : uploadText });
        var repositoryId = await repositories.FindAsync(repository, context.RequestAborted)
            ?? throw ErrorCode.BlobUploadUnknown.With($"upload {uploadId:N} is not in progress", new { uuid = uploadId.ToString("N") });
        return (repositoryId, uploadId);
    }

    private static void WriteCreated(HttpContext context, string repository, Digest digest)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status201Created;
        response.Headers.Location = V2Responses.Url(context.Request, $"/v2/{repository}/blobs/{digest}");
        response.Headers[V2Responses.DigestHeader] = digest.ToString();
        response.ContentLength = 0;
    }

    private static void WriteProgress(HttpContext context, string repository, Guid uploadId, long size, int status)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.Headers.Location = V2Responses.Url(context.Request, $"/v2/{repository}/blobs/uploads/{uploadId:N}");
        response.Headers.Range = UploadService.RangeHeader(size);
        response.Headers[V2Responses.UploadUuidHeader] = uploadId.ToString("N");
        if (status != StatusCodes.Status204NoContent) response.ContentLength = 0;
    }
}
