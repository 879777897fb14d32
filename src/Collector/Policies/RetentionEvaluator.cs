using Berth.Collector.Data;
using Berth.Registry.Collection;
using Berth.Registry.Services;

namespace Berth.Collector.Policies;

/// <summary>A tag a retention policy would remove.</summary>
public sealed record RetentionVerdict(LiveTag Tag, RetentionPolicy Policy);

/// <summary>
/// Which live tags retention policies remove: the pure decision, the same for a
/// dry run and a real one. Each policy judges the tags of its scope that match its
/// pattern; a tag any policy removes is removed (once, under the first such policy).
/// Immutable tags are left out by the caller.
/// </summary>
public static class RetentionEvaluator
{
    public static List<RetentionVerdict> Evaluate(IEnumerable<RetentionPolicy> policies, IReadOnlyList<LiveTag> tags, DateTime now)
    {
        var verdicts = new Dictionary<(string Repository, string Tag), RetentionVerdict>();
        foreach (var policy in policies.OrderBy(p => p.Id))
        {
            var pattern = policy.TagPattern is { } text && ImmutabilityRules.Compile(text) is ({ } compiled, _) ? compiled : null;
            if (policy.TagPattern is not null && pattern is null) continue;
            var scoped = tags.Where(t => ReachabilityRules.NamespaceOf(t.Repository) == policy.Namespace
                && (policy.Repository is null || t.Repository == policy.Repository)
                && (pattern is null || Matches(pattern, t.Tag)));
            foreach (var tag in Removed(policy, scoped, now))
                verdicts.TryAdd((tag.Repository, tag.Tag), new RetentionVerdict(tag, policy));
        }
        return [.. verdicts.Values.OrderBy(v => v.Tag.Repository, StringComparer.Ordinal).ThenBy(v => v.Tag.Tag, StringComparer.Ordinal)];
    }

    private static IEnumerable<LiveTag> Removed(RetentionPolicy policy, IEnumerable<LiveTag> tags, DateTime now) => policy switch
    {
        { KeepNewest: { } keep } => tags.GroupBy(t => t.Repository)
            .SelectMany(repository => repository.OrderByDescending(t => t.PushedAt).ThenByDescending(t => t.Tag, StringComparer.Ordinal).Skip(keep)),
        { MaxAgeSeconds: { } age } => tags.Where(t => t.PushedAt < now - TimeSpan.FromSeconds(age)),
        { NotPulledForSeconds: { } period } => tags.Where(t => (t.LastPulledAt ?? t.PushedAt) < now - TimeSpan.FromSeconds(period)),
        _ => [],
    };

    /// <summary>A pattern too slow to decide matches nothing: retention must not remove on a guess.</summary>
    private static bool Matches(System.Text.RegularExpressions.Regex pattern, string tag)
    {
        try
        {
            return pattern.IsMatch(tag);
        }
        catch (System.Text.RegularExpressions.RegexMatchTimeoutException)
        {
            return false;
        }
    }
}
