using Berth.Collector.Api.V1;
using Berth.Registry.Collection;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;

namespace Berth.Collector.Api;

/// <summary>Storage quotas: superusers set them; a namespace's admins see theirs and its usage.</summary>
public sealed partial class CollectorGrpcService
{
    public override async Task<Quota> SetQuota(SetQuotaRequest request, ServerCallContext context)
    {
        PolicyScope(request.Namespace, "");
        if (request.WarningBytes < 0 || request.RejectBytes < 0)
            throw new RpcException(new Status(StatusCode.InvalidArgument, "limits are byte counts: 0 or more"));
        if (request.WarningBytes == 0 && request.RejectBytes == 0)
            throw new RpcException(new Status(StatusCode.InvalidArgument, "give warning_bytes, reject_bytes or both (to remove a quota, delete it)"));
        if (request.RejectBytes > 0 && request.WarningBytes > request.RejectBytes)
            throw new RpcException(new Status(StatusCode.InvalidArgument, "warning_bytes must not be above reject_bytes"));
        var setBy = await access.RequireAsync(context, CollectionScope.All, "set storage quotas");
        await collectorDb.WriteAsync(async db =>
        {
            var quota = await db.Quotas.FirstOrDefaultAsync(q => q.Namespace == request.Namespace, context.CancellationToken);
            if (quota is null)
            {
                quota = new Data.NamespaceQuota { Namespace = request.Namespace, SetBy = setBy };
                db.Quotas.Add(quota);
            }
            quota.WarningBytes = request.WarningBytes > 0 ? request.WarningBytes : null;
            quota.RejectBytes = request.RejectBytes > 0 ? request.RejectBytes : null;
            quota.SetBy = setBy;
            quota.SetAt = collectorDb.Now();
            return await db.SaveChangesAsync(context.CancellationToken);
        }, context.CancellationToken);
        quotas.Invalidate();
        return await DescribeQuotaAsync(request.Namespace, context.CancellationToken);
    }

    public override async Task<Quota> GetQuota(GetQuotaRequest request, ServerCallContext context)
    {
        PolicyScope(request.Namespace, "");
        await access.RequireAsync(context, new CollectionScope(request.Namespace), "see the storage quota");
        return await DescribeQuotaAsync(request.Namespace, context.CancellationToken);
    }

    public override async Task<Quota> DeleteQuota(GetQuotaRequest request, ServerCallContext context)
    {
        PolicyScope(request.Namespace, "");
        await access.RequireAsync(context, CollectionScope.All, "remove storage quotas");
        var removed = await collectorDb.WriteAsync(db => db.Quotas.Where(q => q.Namespace == request.Namespace).ExecuteDeleteAsync(context.CancellationToken), context.CancellationToken);
        if (removed == 0) throw new RpcException(new Status(StatusCode.NotFound, $"namespace '{request.Namespace}' has no quota"));
        quotas.Invalidate();
        return await DescribeQuotaAsync(request.Namespace, context.CancellationToken);
    }

    private async Task<Quota> DescribeQuotaAsync(string @namespace, CancellationToken cancellationToken)
    {
        var limits = await quotas.LimitsOfAsync(@namespace, cancellationToken);
        var used = await usage.BytesAsync(@namespace, cancellationToken);
        return new Quota
        {
            Namespace = @namespace,
            WarningBytes = limits?.WarningBytes ?? 0,
            RejectBytes = limits?.RejectBytes ?? 0,
            UsedBytes = used,
            WarningReached = limits?.WarningBytes is { } warning && used > warning,
        };
    }
}
