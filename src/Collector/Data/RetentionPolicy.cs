namespace Berth.Collector.Data;

/// <summary>
/// An auto-prune rule for the tags of a namespace (or of one repository in it),
/// optionally only those matching a pattern. Exactly one rule: keep the newest
/// <see cref="KeepNewest"/> tags per repository, remove tags pushed more than
/// <see cref="MaxAgeSeconds"/> ago, or remove tags not pulled within
/// <see cref="NotPulledForSeconds"/> (a tag never pulled counts from its push).
/// </summary>
public sealed class RetentionPolicy
{
    public long Id { get; set; }
    public required string Namespace { get; set; }
    public string? Repository { get; set; }
    /// <summary>A regular expression the whole tag name must match; null: every tag.</summary>
    public string? TagPattern { get; set; }
    public int? KeepNewest { get; set; }
    public long? MaxAgeSeconds { get; set; }
    public long? NotPulledForSeconds { get; set; }
    public required string CreatedBy { get; set; }
    public DateTime CreatedAt { get; set; }

    public string Describe() =>
        $"retention policy {Id} ({(KeepNewest is { } n ? $"keep the newest {n}" : MaxAgeSeconds is { } age ? $"remove after {TimeSpan.FromSeconds(age)}" : $"remove when not pulled for {TimeSpan.FromSeconds(NotPulledForSeconds ?? 0)}")}"
        + (TagPattern is null ? "" : $" of tags matching '{TagPattern}'") + $" in {(Repository is { } r ? $"repository '{r}'" : $"namespace '{Namespace}'")})";
}
