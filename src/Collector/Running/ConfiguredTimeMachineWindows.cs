using Berth.Collector.Data;
using Berth.Registry.Collection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Berth.Collector.Running;

/// <summary>
/// Each namespace's time-machine window: the one set through the API, else the
/// configured one (<c>Collector:TimeMachineWindows:&lt;namespace&gt;</c>), else the
/// default. The API's choices are read at most every few seconds (and at once after
/// a change made here): a restore or a collection must not wait on a query each.
/// </summary>
public sealed class ConfiguredTimeMachineWindows(CollectorDb collectorDb, IOptions<CollectorOptions> options, TimeProvider clock) : ITimeMachineWindows
{
    private static readonly TimeSpan RefreshEvery = TimeSpan.FromSeconds(5);
    private volatile Snapshot? _snapshot;

    private sealed record Snapshot(DateTimeOffset LoadedAt, Dictionary<string, TimeSpan> ByNamespace);

    public TimeSpan WindowOf(string @namespace)
    {
        if (Current().ByNamespace.TryGetValue(@namespace, out var chosen)) return chosen;
        return options.Value.TimeMachineWindows.TryGetValue(@namespace, out var configured) ? configured : options.Value.DefaultTimeMachineWindow;
    }

    /// <summary>Whether the window is one namespaces may choose.</summary>
    public bool Allowed(TimeSpan window) => options.Value.AllowedTimeMachineWindows.Contains(window);

    public IReadOnlyList<TimeSpan> AllowedWindows => options.Value.AllowedTimeMachineWindows;

    /// <summary>Drops the cached choices, after a change.</summary>
    public void Invalidate() => _snapshot = null;

    private Snapshot Current()
    {
        var now = clock.GetUtcNow();
        if (_snapshot is { } current && now - current.LoadedAt < RefreshEvery) return current;
        using var db = collectorDb.Open();
        var rows = db.Windows.AsNoTracking().ToList();
        var snapshot = new Snapshot(now, rows.ToDictionary(w => w.Namespace, w => TimeSpan.FromSeconds(w.WindowSeconds), StringComparer.Ordinal));
        _snapshot = snapshot;
        return snapshot;
    }
}
