using Berth.Collector.Data;
using Berth.Registry.Collection;
using Berth.Registry.Services;
using Microsoft.EntityFrameworkCore;

namespace Berth.Collector.Policies;

/// <summary>
/// Applies retention policies: asks the registry for the live tags of a scope,
/// lets <see cref="RetentionEvaluator"/> decide, leaves immutable tags alone, and
/// has the registry end the rest (each with a TagPruned event; a tag pushed again
/// since it was judged is kept). A pruned tag stays restorable for the window.
/// </summary>
public sealed class RetentionPass(CollectorDb collectorDb, TimeMachine timeMachine, ITagGuard guard, TimeProvider clock)
{
    /// <summary>What the policies of the scope remove now; with <paramref name="dryRun"/>, only what they would remove.</summary>
    public async Task<int> ApplyAsync(CollectionScope scope, bool dryRun, CancellationToken cancellationToken)
    {
        List<RetentionPolicy> policies;
        await using (var db = collectorDb.Open())
        {
            var query = db.RetentionPolicies.AsNoTracking();
            if (!scope.IsAll)
            {
                var @namespace = scope.Repository is { } repository ? ReachabilityRules.NamespaceOf(repository) : scope.Namespace!;
                query = query.Where(p => p.Namespace == @namespace);
            }
            policies = await query.ToListAsync(cancellationToken);
        }
        if (policies.Count == 0) return 0;
        var verdicts = await JudgeAsync(policies, scope, cancellationToken);
        if (dryRun) return verdicts.Count;
        var pruned = 0;
        foreach (var verdict in verdicts)
            if (await timeMachine.PruneAsync(verdict.Tag.Repository, verdict.Tag.Tag, verdict.Tag.Digest, verdict.Policy.Describe(), cancellationToken))
                pruned++;
        return pruned;
    }

    /// <summary>The tags one policy would remove now.</summary>
    public Task<List<RetentionVerdict>> PreviewAsync(RetentionPolicy policy, CancellationToken cancellationToken) =>
        JudgeAsync([policy], policy.Repository is { } repository ? new CollectionScope(Repository: repository) : new CollectionScope(policy.Namespace), cancellationToken);

    private async Task<List<RetentionVerdict>> JudgeAsync(List<RetentionPolicy> policies, CollectionScope scope, CancellationToken cancellationToken)
    {
        var tags = await timeMachine.ListLiveTagsAsync(scope, cancellationToken);
        var verdicts = RetentionEvaluator.Evaluate(policies, tags, clock.GetUtcNow().UtcDateTime);
        var mutable = new List<RetentionVerdict>(verdicts.Count);
        foreach (var verdict in verdicts)
            if (await guard.ImmutableBecauseAsync(verdict.Tag.Repository, verdict.Tag.Tag, cancellationToken) is null) mutable.Add(verdict);
        return mutable;
    }
}
