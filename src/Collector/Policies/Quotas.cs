using Berth.Collector.Data;
using Berth.Registry.Services;
using Microsoft.EntityFrameworkCore;

namespace Berth.Collector.Policies;

/// <summary>The quotas, answering the registry's "how much may this namespace store?" from a <see cref="PolicySnapshot{T}"/>.</summary>
public sealed class Quotas(CollectorDb collectorDb, TimeProvider clock) : IQuotaPolicy
{
    private readonly PolicySnapshot<Dictionary<string, QuotaLimits>> _quotas = new(collectorDb, clock, db =>
        db.Quotas.AsNoTracking().ToDictionary(q => q.Namespace, q => new QuotaLimits(q.WarningBytes, q.RejectBytes), StringComparer.Ordinal));

    public ValueTask<QuotaLimits?> LimitsOfAsync(string @namespace, CancellationToken cancellationToken) =>
        ValueTask.FromResult(_quotas.Current.GetValueOrDefault(@namespace));

    /// <summary>Drops the cached quotas, after a change.</summary>
    public void Invalidate() => _quotas.Invalidate();
}
