using Berth.Collector.Api.V1;
using Berth.Collector.Data;
using Berth.Collector.Policies;
using Berth.Collector.Running;
using Berth.Registry.Collection;
using Berth.Registry.Services;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;

namespace Berth.Collector.Api;

/// <summary>
/// The collector's API over gRPC and (transcoded) REST under /api/v1/collector:
/// collections and their history here, immutability rules in the other part.
/// </summary>
public sealed partial class CollectorGrpcService(CollectorDb collectorDb, CollectionRunner runner, CollectorAccess access,
    ImmutabilityRules immutability, RetentionPass retention, Quotas quotas, NamespaceUsage usage, ConfiguredTimeMachineWindows windows,
    IHostApplicationLifetime lifetime)
    : CollectorService.CollectorServiceBase
{
    public override async Task<Api.V1.CollectionRun> StartCollection(StartCollectionRequest request, ServerCallContext context)
    {
        var scope = ScopeOf(request.Namespace, request.Repository);
        var requestedBy = await access.RequireAsync(context, scope, "collect garbage");
        var run = await runner.TryStartAsync(scope, request.DryRun, requestedBy, lifetime.ApplicationStopping)
            ?? throw new RpcException(new Status(StatusCode.FailedPrecondition, "a collection is already running, here or on another instance; wait for it to finish (see /api/v1/collector/runs)"));
        return ToMessage(run);
    }

    public override async Task<ListCollectionsResponse> ListCollections(ListCollectionsRequest request, ServerCallContext context)
    {
        var scope = ScopeOf(request.Namespace, null);
        await access.RequireAsync(context, scope, "see collections");
        var pageSize = request.PageSize is > 0 and <= 500 ? request.PageSize : 50;
        await using var db = collectorDb.Open();
        var query = db.Runs.AsNoTracking();
        if (scope.Namespace is { } @namespace)
            query = query.Where(r => r.Namespace == @namespace || (r.Repository != null && (r.Repository.StartsWith(@namespace + "/"))));
        var runs = await query.OrderByDescending(r => r.StartedAt).Take(pageSize).ToListAsync(context.CancellationToken);
        return new ListCollectionsResponse { Runs = { runs.Select(ToMessage) } };
    }

    public override async Task<Api.V1.CollectionRun> GetCollection(GetCollectionRequest request, ServerCallContext context)
    {
        if (!Guid.TryParse(request.Id, out var id))
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"'{request.Id}' is not a collection id"));
        await using var db = collectorDb.Open();
        var run = await db.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.Id == id, context.CancellationToken)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"collection {id} is not known"));
        await access.RequireAsync(context, new CollectionScope(run.Namespace, run.Repository), "see this collection");
        return ToMessage(run);
    }

    private static CollectionScope ScopeOf(string? @namespace, string? repository) =>
        !string.IsNullOrEmpty(repository) ? new CollectionScope(Repository: repository)
        : !string.IsNullOrEmpty(@namespace) ? new CollectionScope(@namespace)
        : CollectionScope.All;

    private static Api.V1.CollectionRun ToMessage(Data.CollectionRun run)
    {
        var message = new Api.V1.CollectionRun
        {
            Id = run.Id.ToString(),
            Namespace = run.Namespace ?? "",
            Repository = run.Repository ?? "",
            DryRun = run.DryRun,
            Status = run.Status,
            Phase = run.Phase,
            RequestedBy = run.RequestedBy,
            StartedAt = Timestamp.FromDateTime(DateTime.SpecifyKind(run.StartedAt, DateTimeKind.Utc)),
            Resumes = run.Resumes,
            TagsPruned = run.TagsPruned,
            TagsExpired = run.TagsExpired,
            TagHistoryPruned = run.TagHistoryPruned,
            ManifestsRemoved = run.ManifestsRemoved,
            BlobLinksRemoved = run.BlobLinksRemoved,
            BlobsRemoved = run.BlobsRemoved,
            BytesFreed = run.BytesFreed,
            UploadsRemoved = run.UploadsRemoved,
            OrphanFilesRemoved = run.OrphanFilesRemoved,
            Error = run.Error ?? "",
        };
        if (run.FinishedAt is { } finished)
        {
            message.FinishedAt = Timestamp.FromDateTime(DateTime.SpecifyKind(finished, DateTimeKind.Utc));
            message.DurationSeconds = (finished - run.StartedAt).TotalSeconds;
        }
        return message;
    }
}
