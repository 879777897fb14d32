using Berth.Oci;
using Berth.Registry.Collection;
using Microsoft.Extensions.Logging;

namespace Berth.Registry.Services;

/// <summary>
/// Refuses an upload or mount that would take a namespace past its reject limit,
/// with DENIED and the figures; past the warning limit it is allowed and logged.
/// A blob the namespace already holds costs nothing and always passes.
/// </summary>
public sealed class QuotaCheck(IQuotaPolicy quotas, NamespaceUsage usage, ILogger<QuotaCheck> logger)
{
    /// <summary>Checks before the blob is linked; returns the namespace to report the bytes to once it is (null: nothing to report).</summary>
    public async Task<string?> RequireRoomAsync(string repository, string digest, long size, CancellationToken cancellationToken)
    {
        var @namespace = ReachabilityRules.NamespaceOf(repository);
        if (await quotas.LimitsOfAsync(@namespace, cancellationToken) is not { } limits) return null;
        if (await usage.HoldsAsync(@namespace, digest, cancellationToken)) return null;
        var used = await usage.BytesAsync(@namespace, cancellationToken);
        if (limits.RejectBytes is { } reject && used + size > reject)
            throw ErrorCode.Denied.With(
                $"storage quota of namespace '{@namespace}' exceeded: it stores {used} bytes, this blob has {size}, the limit is {reject}; delete images (and let garbage collection run) or ask for a larger quota",
                new { @namespace, used, size, limit = reject });
        if (limits.WarningBytes is { } warning && used + size > warning)
            logger.LogWarning("Namespace {Namespace} stores {Bytes} bytes, past its warning limit of {Warning}", @namespace, used + size, warning);
        return @namespace;
    }

    public void Stored(string? @namespace, long size)
    {
        if (@namespace is not null) usage.Added(@namespace, size);
    }
}
