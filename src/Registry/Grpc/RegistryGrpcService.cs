using Berth.Access;
using Berth.Registry.Access;
using Berth.Registry.Api.V1;
using Berth.Oci;
using Berth.Registry.Services;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace Berth.Registry.Grpc;

/// <summary>The management API (gRPC, and REST under /api/v1 through JSON transcoding).</summary>
public sealed class RegistryGrpcService(CatalogService catalog, ManifestService manifests, TimeMachine timeMachine, ApiAccess access, TimeProvider clock) : RegistryService.RegistryServiceBase
{
    private const int DefaultPageSize = 100;
    private const int MaxPageSize = 1000;

    public override Task<ListRepositoriesResponse> ListRepositories(ListRepositoriesRequest request, ServerCallContext context) =>
        Guard(async () =>
        {
            var visible = await access.ReadableFilterAsync(context);
            var page = await catalog.ListRepositoriesAsync(request.PageToken, PageSize(request.PageSize), visible, context.CancellationToken);
            var response = new ListRepositoriesResponse { NextPageToken = page.HasMore && page.Items.Count > 0 ? page.Items[^1] : "" };
            foreach (var name in page.Items)
                response.Repositories.Add(ToMessage(await catalog.DescribeAsync(name, context.CancellationToken)));
            return response;
        });

    public override Task<Repository> GetRepository(GetRepositoryRequest request, ServerCallContext context) =>
        Guard(async () =>
        {
            RequireName(request.Name, "name");
            await access.RequireAsync(context, request.Name, RepositoryRole.Read, $"read '{request.Name}'");
            return ToMessage(await catalog.DescribeAsync(request.Name, context.CancellationToken));
        });

    public override Task<ListTagsResponse> ListTags(ListTagsRequest request, ServerCallContext context) =>
        Guard(async () =>
        {
            RequireName(request.Repository, "repository");
            await access.RequireAsync(context, request.Repository, RepositoryRole.Read, $"read '{request.Repository}'");
            var page = await catalog.ListTagHistoryAsync(request.Repository, request.IncludeHistory, request.PageToken, PageSize(request.PageSize), context.CancellationToken);
            var response = new ListTagsResponse { NextPageToken = page.HasMore && page.Items.Count > 0 ? page.Items[^1].Name : "" };
            response.Tags.AddRange(page.Items.Select(t => new Tag
            {
                Name = t.Name,
                ManifestDigest = t.ManifestDigest,
                MediaType = t.MediaType,
                StartedAt = Timestamp.FromDateTime(DateTime.SpecifyKind(t.StartedAt, DateTimeKind.Utc)),
                EndedAt = t.EndedAt is { } ended ? Timestamp.FromDateTime(DateTime.SpecifyKind(ended, DateTimeKind.Utc)) : null,
                Live = t.EndedAt is null,
                ExpiresAt = t.ExpiresAt is { } expires ? Timestamp.FromDateTime(DateTime.SpecifyKind(expires, DateTimeKind.Utc)) : null,
            }));
            return response;
        });

    public override Task<Manifest> GetManifest(GetManifestRequest request, ServerCallContext context) =>
        Guard(async () =>
        {
            RequireName(request.Repository, "repository");
            await access.RequireAsync(context, request.Repository, RepositoryRole.Read, $"read '{request.Repository}'");
            if (string.IsNullOrEmpty(request.Reference))
                throw new RpcException(new Status(StatusCode.InvalidArgument, "reference is required: a tag or a digest"));
            var view = await manifests.GetAsync(request.Repository, ManifestReference.Parse(request.Reference), context.CancellationToken);
            var parsed = ManifestParser.Parse(view.Content, view.MediaType);
            var tags = await catalog.ListTagsOnAsync(view.RepositoryId, view.Id, context.CancellationToken);
            var message = new Manifest
            {
                Repository = request.Repository,
                Digest = view.Digest,
                MediaType = view.MediaType,
                ArtifactType = parsed.ArtifactType ?? "",
                SizeBytes = view.Content.Length,
                Content = System.Text.Encoding.UTF8.GetString(view.Content),
                SubjectDigest = view.SubjectDigest ?? "",
                PushedAt = Timestamp.FromDateTime(DateTime.SpecifyKind(view.PushedAt, DateTimeKind.Utc)),
            };
            message.Tags.AddRange(tags);
            message.References.AddRange(parsed.RequiredBlobs.Concat(parsed.Children)
                .Select(d => new ContentReference { MediaType = d.MediaType, Digest = d.Digest.ToString(), Size = d.Size }));
            return message;
        });

    public override Task<DeleteTagResponse> DeleteTag(DeleteTagRequest request, ServerCallContext context) =>
        Guard(async () =>
        {
            RequireName(request.Repository, "repository");
            await access.RequireAsync(context, request.Repository, RepositoryRole.Write, $"delete tags in '{request.Repository}'");
            var reference = RequireTag(request.Tag);
            if (request.Permanently)
            {
                var last = await timeMachine.DeletePermanentlyAsync(request.Repository, request.Tag, context.CancellationToken);
                return new DeleteTagResponse { Repository = request.Repository, Tag = request.Tag, ManifestDigest = last ?? "" };
            }
            var target = await manifests.GetAsync(request.Repository, reference, context.CancellationToken);
            await manifests.DeleteAsync(request.Repository, reference, context.CancellationToken);
            return new DeleteTagResponse { Repository = request.Repository, Tag = request.Tag, ManifestDigest = target.Digest };
        });

    public override Task<Tag> SetTagExpiration(SetTagExpirationRequest request, ServerCallContext context) =>
        Guard(async () =>
        {
            RequireName(request.Repository, "repository");
            await access.RequireAsync(context, request.Repository, RepositoryRole.Write, $"change tags in '{request.Repository}'");
            RequireTag(request.Tag);
            DateTime? expiresAt = null;
            if (!request.ClearExpiration)
            {
                if (request.ExpiresAt is null)
                    throw new RpcException(new Status(StatusCode.InvalidArgument, "expires_at is required (or set clear_expiration)"));
                expiresAt = request.ExpiresAt.ToDateTime();
                if (expiresAt <= clock.GetUtcNow().UtcDateTime)
                    throw new RpcException(new Status(StatusCode.InvalidArgument, $"expires_at {expiresAt:O} is not in the future; delete the tag instead"));
            }
            return ToMessage(await timeMachine.SetExpirationAsync(request.Repository, request.Tag, expiresAt, context.CancellationToken));
        });

    public override Task<Tag> RestoreTag(RestoreTagRequest request, ServerCallContext context) =>
        Guard(async () =>
        {
            RequireName(request.Repository, "repository");
            await access.RequireAsync(context, request.Repository, RepositoryRole.Write, $"restore tags in '{request.Repository}'");
            RequireTag(request.Tag);
            if (!Digest.TryParse(request.ManifestDigest, out var digest))
                throw new RpcException(new Status(StatusCode.InvalidArgument, $"manifest_digest '{request.ManifestDigest}' is not a digest"));
            return ToMessage(await timeMachine.RestoreAsync(request.Repository, request.Tag, digest.Value, context.CancellationToken));
        });

    private static ManifestReference RequireTag(string tag)
    {
        if (!Names.IsValidTag(tag))
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"'{(tag.Length > 200 ? tag[..200] : tag)}' is not a tag name"));
        return new ManifestReference(tag, null);
    }

    private static Tag ToMessage(TagState state) => new()
    {
        Name = state.Name,
        ManifestDigest = state.ManifestDigest,
        StartedAt = Timestamp.FromDateTime(DateTime.SpecifyKind(state.StartedAt, DateTimeKind.Utc)),
        Live = true,
        ExpiresAt = state.ExpiresAt is { } expires ? Timestamp.FromDateTime(DateTime.SpecifyKind(expires, DateTimeKind.Utc)) : null,
    };

    private static int PageSize(int requested) => requested <= 0 ? DefaultPageSize : Math.Min(requested, MaxPageSize);

    private static void RequireName(string name, string field)
    {
        if (!Names.IsValidRepositoryName(name))
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"{field} '{(name.Length > 300 ? name[..300] : name)}' is not a valid repository name"));
    }

    private static Repository ToMessage(RepositorySummary summary) => new()
    {
        Name = summary.Name,
        CreatedAt = Timestamp.FromDateTime(DateTime.SpecifyKind(summary.CreatedAt, DateTimeKind.Utc)),
        TagCount = summary.TagCount,
        ManifestCount = summary.ManifestCount,
        SizeBytes = summary.SizeBytes,
        LastModified = summary.LastModified is { } modified ? Timestamp.FromDateTime(DateTime.SpecifyKind(modified, DateTimeKind.Utc)) : null,
    };

    /// <summary>Registry refusals become gRPC status codes with the same message.</summary>
    private static async Task<T> Guard<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (RegistryException e)
        {
            var code = e.Status switch
            {
                404 => StatusCode.NotFound,
                401 => StatusCode.Unauthenticated,
                403 => StatusCode.PermissionDenied,
                429 => StatusCode.ResourceExhausted,
                _ => StatusCode.InvalidArgument,
            };
            throw new RpcException(new Status(code, $"{e.Code.Code}: {e.Message}"));
        }
    }
}
