using System.Collections.Concurrent;
using Berth.Contracts.Registry;
using Berth.Data.Outbox;
using Berth.Oci;
using Berth.Registry.Collection;
using Berth.Registry.Data;
using Microsoft.Extensions.Logging;

namespace Berth.Registry.Services;

/// <summary>A blob a namespace is about to store, checked against its quota; reported with <see cref="QuotaCheck.StoredAsync"/> once linked.</summary>
public sealed record QuotaCharge(string Namespace, QuotaLimits Limits);

/// <summary>
/// Refuses an upload or mount that would take a namespace past its reject limit,
/// with DENIED and the figures. A blob that takes it past the warning limit is
/// stored, and a QuotaWarningReached event (the audit log's quota_warning) is
/// published once per crossing: not again until the namespace has been seen back
/// under the limit (after deletes and a collection). A blob the namespace already
/// holds costs nothing and always passes.
/// </summary>
public sealed class QuotaCheck(IQuotaPolicy quotas, NamespaceUsage usage, RegistryDb registryDb, EventActors actors, ILogger<QuotaCheck> logger)
{
    private readonly ConcurrentDictionary<string, bool> _warned = new(StringComparer.Ordinal);

    /// <summary>Checks before the blob is linked; returns what to report once it is (null: nothing to report).</summary>
    public async Task<QuotaCharge?> RequireRoomAsync(string repository, string digest, long size, CancellationToken cancellationToken)
    {
        var @namespace = ReachabilityRules.NamespaceOf(repository);
        if (await quotas.LimitsOfAsync(@namespace, cancellationToken) is not { } limits) return null;
        if (await usage.HoldsAsync(@namespace, digest, cancellationToken)) return null;
        var used = await usage.BytesAsync(@namespace, cancellationToken);
        if (limits.RejectBytes is { } reject && used + size > reject)
            throw ErrorCode.Denied.With(
                $"storage quota of namespace '{@namespace}' exceeded: it stores {used} bytes, this blob has {size}, the limit is {reject}; delete images (and let garbage collection run) or ask for a larger quota",
                new { @namespace, used, size, limit = reject });
        if (limits.WarningBytes is not { } warning || used + size <= warning) _warned.TryRemove(@namespace, out _);
        return new QuotaCharge(@namespace, limits);
    }

    /// <summary>Counts a linked blob towards its namespace, and warns when that took it past the warning limit.</summary>
    public async Task StoredAsync(QuotaCharge? charge, long size)
    {
        if (charge is null) return;
        var stored = usage.Added(charge.Namespace, size);
        if (charge.Limits.WarningBytes is not { } warning || stored <= warning || !_warned.TryAdd(charge.Namespace, true)) return;
        logger.LogWarning("Namespace {Namespace} stores {Bytes} bytes, past its warning limit of {Warning}", charge.Namespace, stored, warning);
        var actor = actors.Current();
        await registryDb.WriteAsync(async db =>
        {
            db.Publish(new QuotaWarningReached(charge.Namespace, stored, warning, charge.Limits.RejectBytes) { Actor = actor });
            await db.SaveChangesAsync(CancellationToken.None);
        }, CancellationToken.None);
    }
}
