using Berth.Collector.Api.V1;
using Berth.Collector.Policies;
using Berth.Registry.Collection;
using Berth.Registry.Services;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;

namespace Berth.Collector.Api;

/// <summary>Retention (auto-prune) policies: created, listed, previewed and deleted by the admins of their namespace.</summary>
public sealed partial class CollectorGrpcService
{
    public override async Task<Api.V1.RetentionPolicy> CreateRetentionPolicy(CreateRetentionPolicyRequest request, ServerCallContext context)
    {
        var repository = PolicyScope(request.Namespace, request.Repository);
        var pattern = string.IsNullOrEmpty(request.TagPattern) ? null : request.TagPattern;
        if (pattern is not null && ImmutabilityRules.Compile(pattern) is (null, { } error))
            throw new RpcException(new Status(StatusCode.InvalidArgument, error));
        var rules = (request.KeepNewest != 0 ? 1 : 0) + (string.IsNullOrEmpty(request.MaxAge) ? 0 : 1) + (string.IsNullOrEmpty(request.NotPulledFor) ? 0 : 1);
        if (rules != 1)
            throw new RpcException(new Status(StatusCode.InvalidArgument, "give exactly one rule: keep_newest, max_age or not_pulled_for"));
        if (request.KeepNewest < 0)
            throw new RpcException(new Status(StatusCode.InvalidArgument, "keep_newest must be positive"));
        var createdBy = await access.RequireAsync(context, new CollectionScope(request.Namespace, repository), "manage retention policies");
        var policy = new Data.RetentionPolicy
        {
            Namespace = request.Namespace,
            Repository = repository,
            TagPattern = pattern,
            KeepNewest = request.KeepNewest > 0 ? request.KeepNewest : null,
            MaxAgeSeconds = Seconds(request.MaxAge, "max_age"),
            NotPulledForSeconds = Seconds(request.NotPulledFor, "not_pulled_for"),
            CreatedBy = createdBy,
            CreatedAt = collectorDb.Now(),
        };
        await collectorDb.WriteAsync(db =>
        {
            db.RetentionPolicies.Add(policy);
            return db.SaveChangesAsync(context.CancellationToken);
        }, context.CancellationToken);
        return ToMessage(policy);
    }

    public override async Task<ListRetentionPoliciesResponse> ListRetentionPolicies(ListRetentionPoliciesRequest request, ServerCallContext context)
    {
        if (string.IsNullOrEmpty(request.Namespace))
            throw new RpcException(new Status(StatusCode.InvalidArgument, "namespace is required"));
        await access.RequireAsync(context, new CollectionScope(request.Namespace), "see retention policies");
        await using var db = collectorDb.Open();
        var policies = await db.RetentionPolicies.AsNoTracking().Where(p => p.Namespace == request.Namespace).OrderBy(p => p.Id).ToListAsync(context.CancellationToken);
        return new ListRetentionPoliciesResponse { Policies = { policies.Select(ToMessage) } };
    }

    public override async Task<DeleteRetentionPolicyResponse> DeleteRetentionPolicy(DeleteRetentionPolicyRequest request, ServerCallContext context)
    {
        var policy = await FindPolicyAsync(request.Id, context);
        await access.RequireAsync(context, new CollectionScope(policy.Namespace, policy.Repository), "manage retention policies");
        await collectorDb.WriteAsync(db => db.RetentionPolicies.Where(p => p.Id == request.Id).ExecuteDeleteAsync(context.CancellationToken), context.CancellationToken);
        return new DeleteRetentionPolicyResponse();
    }

    public override async Task<PreviewRetentionPolicyResponse> PreviewRetentionPolicy(PreviewRetentionPolicyRequest request, ServerCallContext context)
    {
        var policy = await FindPolicyAsync(request.Id, context);
        await access.RequireAsync(context, new CollectionScope(policy.Namespace, policy.Repository), "see retention policies");
        var verdicts = await retention.PreviewAsync(policy, context.CancellationToken);
        return new PreviewRetentionPolicyResponse
        {
            Tags =
            {
                verdicts.Select(v => new PrunedTag
                {
                    Repository = v.Tag.Repository,
                    Tag = v.Tag.Tag,
                    ManifestDigest = v.Tag.Digest,
                    PushedAt = Timestamp.FromDateTime(DateTime.SpecifyKind(v.Tag.PushedAt, DateTimeKind.Utc)),
                    LastPulledAt = v.Tag.LastPulledAt is { } pulled ? Timestamp.FromDateTime(DateTime.SpecifyKind(pulled, DateTimeKind.Utc)) : null,
                    Reason = v.Policy.Describe(),
                }),
            },
        };
    }

    private async Task<Data.RetentionPolicy> FindPolicyAsync(long id, ServerCallContext context)
    {
        await using var db = collectorDb.Open();
        return await db.RetentionPolicies.AsNoTracking().FirstOrDefaultAsync(p => p.Id == id, context.CancellationToken)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"retention policy {id} is not known"));
    }

    private static long? Seconds(string value, string field)
    {
        if (string.IsNullOrEmpty(value)) return null;
        return ExpiryLabel.Parse(value) is { } period ? (long)period.TotalSeconds
            : throw new RpcException(new Status(StatusCode.InvalidArgument, $"{field} '{(value.Length > 40 ? value[..40] : value)}' is not a duration such as 12h, 30d or 2w"));
    }

    private static Api.V1.RetentionPolicy ToMessage(Data.RetentionPolicy policy) => new()
    {
        Id = policy.Id,
        Namespace = policy.Namespace,
        Repository = policy.Repository ?? "",
        TagPattern = policy.TagPattern ?? "",
        KeepNewest = policy.KeepNewest ?? 0,
        MaxAgeSeconds = policy.MaxAgeSeconds ?? 0,
        NotPulledForSeconds = policy.NotPulledForSeconds ?? 0,
        CreatedBy = policy.CreatedBy,
        CreatedAt = Timestamp.FromDateTime(DateTime.SpecifyKind(policy.CreatedAt, DateTimeKind.Utc)),
        Description = policy.Describe(),
    };
}
