using System.Globalization;
using Berth.Access;
using Berth.Oci;
using Berth.Registry.Services;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Berth.Registry.Http;

/// <summary>/v2/_catalog, /v2/&lt;name&gt;/tags/list and /v2/&lt;name&gt;/referrers/&lt;digest&gt;.</summary>
public sealed class ListingEndpoints(CatalogService catalog, ManifestService manifests, IOptions<RegistryOptions> options, IAccessDirectory? directory = null)
{
    public async Task CatalogAsync(HttpContext context)
    {
        var (limit, last) = ReadPaging(context.Request);
        var page = await catalog.ListRepositoriesAsync(last, limit, await CatalogFilterAsync(context), context.RequestAborted);
        if (page is { HasMore: true, Items.Count: > 0 }) SetNextLink(context, "/v2/_catalog", limit, page.Items[^1]);
        await V2Responses.WriteJsonAsync(context, new { repositories = page.Items });
    }

    /// <summary>With tokens on, the catalog lists only what the token's subject may pull (Auth decides).</summary>
    private async Task<Func<string, bool>?> CatalogFilterAsync(HttpContext context)
    {
        if (context.Features.Get<TokenGrant>() is not { } grant) return null;
        if (directory is null) throw ErrorCode.Denied.With("catalog listing needs the auth module: run it here or set Registry:AuthUrl");
        try
        {
            var caller = await directory.FindCallerAsync(grant.Subject, context.RequestAborted);
            return (await directory.GetReadableAsync(caller, context.RequestAborted)).Contains;
        }
        catch (global::Grpc.Core.RpcException e) when (e.StatusCode is not global::Grpc.Core.StatusCode.Cancelled)
        {
            throw ErrorCode.Unavailable.With("the auth service cannot say what you may list right now; try again");
        }
    }

    public async Task TagsAsync(HttpContext context, string repository)
    {
        var (limit, last) = ReadPaging(context.Request);
        var page = await catalog.ListTagsAsync(repository, last, limit, context.RequestAborted);
        if (page is { HasMore: true, Items.Count: > 0 }) SetNextLink(context, $"/v2/{repository}/tags/list", limit, page.Items[^1]);
        await V2Responses.WriteJsonAsync(context, new { name = repository, tags = page.Items });
    }

    public async Task ReferrersAsync(HttpContext context, string repository, string digestText)
    {
        var subject = BlobEndpoints.ParseDigest(digestText);
        string? artifactType = context.Request.Query.TryGetValue("artifactType", out var filter) && filter.ToString().Length > 0 ? filter.ToString() : null;
        if (artifactType is not null && (artifactType.Length > 255 || Names.HasControlCharacters(artifactType)))
            throw ErrorCode.ManifestInvalid.With("artifactType must be a media type", null, Microsoft.AspNetCore.Http.StatusCodes.Status400BadRequest);
        var referrers = await manifests.GetReferrersAsync(repository, subject, artifactType, context.RequestAborted);
        if (artifactType is not null) context.Response.Headers["OCI-Filters-Applied"] = "artifactType";
        await V2Responses.WriteJsonAsync(context, new
        {
            schemaVersion = 2,
            mediaType = MediaTypes.OciIndex,
            manifests = referrers.Select(r => new ReferrerJson(r.MediaType, r.Digest, r.Size, r.ArtifactType, r.Annotations)),
        }, MediaTypes.OciIndex);
    }

    private sealed record ReferrerJson(string MediaType, string Digest, long Size,
        [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? ArtifactType,
        [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] Dictionary<string, string>? Annotations);

    /// <summary>n and last: n is a count of at least 0, capped at the configured page size.</summary>
    private (int Limit, string? Last) ReadPaging(HttpRequest request)
    {
        var max = options.Value.MaxPageSize;
        var limit = max;
        if (request.Query.TryGetValue("n", out var nValue) && nValue.ToString().Length > 0)
        {
            if (!int.TryParse(nValue.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
                throw ErrorCode.PaginationNumberInvalid.With($"n must be a whole number of at least 0, not '{nValue}'", new { n = nValue.ToString() });
            limit = Math.Min(n, max);
        }
        var last = request.Query.TryGetValue("last", out var lastValue) ? lastValue.ToString() : null;
        if (last is not null && (last.Length > Names.MaxRepositoryNameLength || Names.HasControlCharacters(last)))
            throw ErrorCode.PaginationNumberInvalid.With("last must be a repository or tag name", null);
        return (limit, last);
    }

    private static void SetNextLink(HttpContext context, string path, int limit, string last) =>
        context.Response.Headers.Link = $"<{path}?n={limit}&last={Uri.EscapeDataString(last)}>; rel=\"next\"";
}
