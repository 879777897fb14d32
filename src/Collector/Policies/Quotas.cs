using Berth.Collector.Data;
using Berth.Registry.Services;
using Microsoft.EntityFrameworkCore;

namespace Berth.Collector.Policies;

/// <summary>
/// The quotas, answering the registry's "how much may this namespace store?".
/// Read from the database at most every few seconds (uploads must not wait on a
/// query each), and at once after a change made here.
/// </summary>
public sealed class Quotas(CollectorDb collectorDb, TimeProvider clock) : IQuotaPolicy
{
    private static readonly TimeSpan RefreshEvery = TimeSpan.FromSeconds(5);
    private volatile Snapshot? _snapshot;

    private sealed record Snapshot(DateTimeOffset LoadedAt, Dictionary<string, QuotaLimits> ByNamespace);

    public async ValueTask<QuotaLimits?> LimitsOfAsync(string @namespace, CancellationToken cancellationToken)
    {
        var snapshot = _snapshot;
        var now = clock.GetUtcNow();
        if (snapshot is null || now - snapshot.LoadedAt >= RefreshEvery)
        {
            await using var db = collectorDb.Open();
            var rows = await db.Quotas.AsNoTracking().ToListAsync(cancellationToken);
            snapshot = new Snapshot(now, rows.ToDictionary(q => q.Namespace, q => new QuotaLimits(q.WarningBytes, q.RejectBytes), StringComparer.Ordinal));
            _snapshot = snapshot;
        }
        return snapshot.ByNamespace.GetValueOrDefault(@namespace);
    }

    /// <summary>Drops the cached quotas, after a change.</summary>
    public void Invalidate() => _snapshot = null;
}
