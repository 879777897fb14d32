using System.Text.RegularExpressions;
using Berth.Collector.Data;
using Berth.Registry.Collection;
using Berth.Registry.Services;
using Microsoft.EntityFrameworkCore;

namespace Berth.Collector.Policies;

/// <summary>
/// The immutability rules, answering the registry's question "may this tag change?".
/// Rules are read from the database at most every few seconds (a push must not wait
/// on a query per tag), and at once after a change made here; another instance's
/// change is seen within <see cref="RefreshEvery"/>.
/// </summary>
public sealed class ImmutabilityRules(CollectorDb collectorDb, TimeProvider clock) : ITagGuard
{
    public const int MaxPatternLength = 256;
    private static readonly TimeSpan RefreshEvery = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(50);
    private volatile Snapshot? _snapshot;

    private sealed record CompiledRule(ImmutabilityRule Rule, Regex Pattern);

    private sealed record Snapshot(DateTimeOffset LoadedAt, ILookup<string, CompiledRule> ByNamespace);

    /// <summary>Compiles a pattern as a whole-name match; null with the reason when it is not a usable expression.</summary>
    public static (Regex? Pattern, string? Error) Compile(string pattern)
    {
        if (string.IsNullOrWhiteSpace(pattern)) return (null, "tag_pattern is required (e.g. '^v[0-9]+\\.[0-9]+\\.[0-9]+$' or '.*' for every tag)");
        if (pattern.Length > MaxPatternLength) return (null, $"tag_pattern is longer than {MaxPatternLength} characters");
        try
        {
            return (new Regex($"^(?:{pattern})$", RegexOptions.CultureInvariant, MatchTimeout), null);
        }
        catch (ArgumentException e)
        {
            return (null, $"tag_pattern is not a valid regular expression: {e.Message}");
        }
    }

    public async ValueTask<string?> ImmutableBecauseAsync(string repository, string tag, CancellationToken cancellationToken)
    {
        var snapshot = await CurrentAsync(cancellationToken);
        foreach (var compiled in snapshot.ByNamespace[ReachabilityRules.NamespaceOf(repository)])
        {
            if (compiled.Rule.Repository is { } only && only != repository) continue;
            bool matches;
            try
            {
                matches = compiled.Pattern.IsMatch(tag);
            }
            catch (RegexMatchTimeoutException)
            {
                // A pattern too slow to decide: protecting the tag is the safe answer.
                matches = true;
            }
            if (matches)
                return $"rule {compiled.Rule.Id}: tags matching '{compiled.Rule.TagPattern}' in {(compiled.Rule.Repository is { } r ? $"repository '{r}'" : $"namespace '{compiled.Rule.Namespace}'")}";
        }
        return null;
    }

    /// <summary>Drops the cached rules, after a change.</summary>
    public void Invalidate() => _snapshot = null;

    private async ValueTask<Snapshot> CurrentAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (_snapshot is { } current && now - current.LoadedAt < RefreshEvery) return current;
        await using var db = collectorDb.Open();
        var rules = await db.ImmutabilityRules.AsNoTracking().ToListAsync(cancellationToken);
        var compiled = rules.Select(r => Compile(r.TagPattern) is ({ } pattern, _) ? new CompiledRule(r, pattern) : null).OfType<CompiledRule>();
        var snapshot = new Snapshot(now, compiled.ToLookup(c => c.Rule.Namespace, StringComparer.Ordinal));
        _snapshot = snapshot;
        return snapshot;
    }
}
