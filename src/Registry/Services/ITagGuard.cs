namespace Berth.Registry.Services;

/// <summary>
/// Which tags may not change once they exist: the collector module owns the
/// immutability rules and answers here; without it no tag is immutable.
/// </summary>
public interface ITagGuard
{
    /// <summary>Why the tag is immutable (the rule that makes it so), or null when it may change.</summary>
    ValueTask<string?> ImmutableBecauseAsync(string repository, string tag, CancellationToken cancellationToken);
}

public sealed class NoTagGuard : ITagGuard
{
    public ValueTask<string?> ImmutableBecauseAsync(string repository, string tag, CancellationToken cancellationToken) => ValueTask.FromResult<string?>(null);
}

public static class TagGuardExtensions
{
    /// <summary>Refuses with DENIED when the tag is immutable and the change would move, delete or expire it.</summary>
    public static async ValueTask RequireMutableAsync(this ITagGuard guard, string repository, string tag, string change, CancellationToken cancellationToken)
    {
        if (await guard.ImmutableBecauseAsync(repository, tag, cancellationToken) is { } rule)
            throw Oci.ErrorCode.Denied.With($"tag '{tag}' in '{repository}' is immutable ({rule}): it cannot be {change}; push under a new tag instead",
                new { tag, rule });
    }
}
