using Berth.Collector.Api.V1;
using Berth.Collector.Policies;
using Berth.Registry.Collection;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;

namespace Berth.Collector.Api;

/// <summary>Immutability rules: created, listed and deleted by the admins of their namespace.</summary>
public sealed partial class CollectorGrpcService
{
    public override async Task<Api.V1.ImmutabilityRule> CreateImmutabilityRule(CreateImmutabilityRuleRequest request, ServerCallContext context)
    {
        var repository = PolicyScope(request.Namespace, request.Repository);
        if (ImmutabilityRules.Compile(request.TagPattern) is (null, { } error))
            throw new RpcException(new Status(StatusCode.InvalidArgument, error));
        var createdBy = await access.RequireAsync(context, new CollectionScope(request.Namespace, repository), "manage immutability rules");
        var rule = new Data.ImmutabilityRule
        {
            Namespace = request.Namespace,
            Repository = repository,
            TagPattern = request.TagPattern,
            CreatedBy = createdBy,
            CreatedAt = collectorDb.Now(),
        };
        await collectorDb.WriteAsync(db =>
        {
            db.ImmutabilityRules.Add(rule);
            return db.SaveChangesAsync(context.CancellationToken);
        }, context.CancellationToken);
        immutability.Invalidate();
        return ToMessage(rule);
    }

    public override async Task<ListImmutabilityRulesResponse> ListImmutabilityRules(ListImmutabilityRulesRequest request, ServerCallContext context)
    {
        if (string.IsNullOrEmpty(request.Namespace))
            throw new RpcException(new Status(StatusCode.InvalidArgument, "namespace is required"));
        await access.RequireAsync(context, new CollectionScope(request.Namespace), "see immutability rules");
        await using var db = collectorDb.Open();
        var rules = await db.ImmutabilityRules.AsNoTracking().Where(r => r.Namespace == request.Namespace).OrderBy(r => r.Id).ToListAsync(context.CancellationToken);
        return new ListImmutabilityRulesResponse { Rules = { rules.Select(ToMessage) } };
    }

    public override async Task<DeleteImmutabilityRuleResponse> DeleteImmutabilityRule(DeleteImmutabilityRuleRequest request, ServerCallContext context)
    {
        Data.ImmutabilityRule rule;
        await using (var db = collectorDb.Open())
            rule = await db.ImmutabilityRules.AsNoTracking().FirstOrDefaultAsync(r => r.Id == request.Id, context.CancellationToken)
                ?? throw new RpcException(new Status(StatusCode.NotFound, $"immutability rule {request.Id} is not known"));
        await access.RequireAsync(context, new CollectionScope(rule.Namespace, rule.Repository), "manage immutability rules");
        await collectorDb.WriteAsync(db => db.ImmutabilityRules.Where(r => r.Id == request.Id).ExecuteDeleteAsync(context.CancellationToken), context.CancellationToken);
        immutability.Invalidate();
        return new DeleteImmutabilityRuleResponse();
    }

    /// <summary>Checks where a rule or policy applies: a namespace, and optionally one of its repositories (returned, or null).</summary>
    private static string? PolicyScope(string @namespace, string repository)
    {
        if (string.IsNullOrEmpty(@namespace))
            throw new RpcException(new Status(StatusCode.InvalidArgument, "namespace is required"));
        if (string.IsNullOrEmpty(repository)) return null;
        if (ReachabilityRules.NamespaceOf(repository) != @namespace)
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"repository '{repository}' is not in namespace '{@namespace}'"));
        return repository;
    }

    private static Api.V1.ImmutabilityRule ToMessage(Data.ImmutabilityRule rule) => new()
    {
        Id = rule.Id,
        Namespace = rule.Namespace,
        Repository = rule.Repository ?? "",
        TagPattern = rule.TagPattern,
        CreatedBy = rule.CreatedBy,
        CreatedAt = Timestamp.FromDateTime(DateTime.SpecifyKind(rule.CreatedAt, DateTimeKind.Utc)),
    };
}
