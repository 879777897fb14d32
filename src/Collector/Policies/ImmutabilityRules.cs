using System.Text.RegularExpressions;
using Berth.Collector.Data;
using Berth.Registry.Collection;
using Berth.Registry.Services;
using Microsoft.EntityFrameworkCore;

namespace Berth.Collector.Policies;

/// <summary>
/// The immutability rules, answering the registry's question "may this tag change?"
/// from a <see cref="PolicySnapshot{T}"/> of them, compiled.
/// </summary>
public sealed class ImmutabilityRules(CollectorDb collectorDb, TimeProvider clock) : ITagGuard
{
    public const int MaxPatternLength = 256;
    private static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(50);

    private readonly PolicySnapshot<ILookup<string, CompiledRule>> _rules = new(collectorDb, clock, db =>
        db.ImmutabilityRules.AsNoTracking().ToList()
            .Select(r => Compile(r.TagPattern) is ({ } pattern, _) ? new CompiledRule(r, pattern) : null).OfType<CompiledRule>()
            .ToLookup(c => c.Rule.Namespace, StringComparer.Ordinal));

    private sealed record CompiledRule(ImmutabilityRule Rule, Regex Pattern);

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

    public ValueTask<string?> ImmutableBecauseAsync(string repository, string tag, CancellationToken cancellationToken)
    {
        foreach (var compiled in _rules.Current[ReachabilityRules.NamespaceOf(repository)])
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
                return ValueTask.FromResult<string?>(
                    $"rule {compiled.Rule.Id}: tags matching '{compiled.Rule.TagPattern}' in {(compiled.Rule.Repository is { } r ? $"repository '{r}'" : $"namespace '{compiled.Rule.Namespace}'")}");
        }
        return ValueTask.FromResult<string?>(null);
    }

    /// <summary>Drops the cached rules, after a change.</summary>
    public void Invalidate() => _rules.Invalidate();
}
