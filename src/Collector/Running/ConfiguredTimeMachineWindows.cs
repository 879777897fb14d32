using Berth.Collector.Data;
using Berth.Collector.Policies;
using Berth.Registry.Collection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Berth.Collector.Running;

/// <summary>
/// Each namespace's time-machine window: the one set through the API (from a
/// <see cref="PolicySnapshot{T}"/>), else the configured one
/// (<c>Collector:TimeMachineWindows:&lt;namespace&gt;</c>), else the default.
/// </summary>
public sealed class ConfiguredTimeMachineWindows(CollectorDb collectorDb, IOptions<CollectorOptions> options, TimeProvider clock) : ITimeMachineWindows
{
    private readonly PolicySnapshot<Dictionary<string, TimeSpan>> _chosen = new(collectorDb, clock, db =>
        db.Windows.AsNoTracking().ToDictionary(w => w.Namespace, w => TimeSpan.FromSeconds(w.WindowSeconds), StringComparer.Ordinal));

    public TimeSpan WindowOf(string @namespace)
    {
        if (_chosen.Current.TryGetValue(@namespace, out var chosen)) return chosen;
        return options.Value.TimeMachineWindows.TryGetValue(@namespace, out var configured) ? configured : options.Value.DefaultTimeMachineWindow;
    }

    /// <summary>Whether the window is one namespaces may choose.</summary>
    public bool Allowed(TimeSpan window) => options.Value.AllowedTimeMachineWindows.Contains(window);

    public IReadOnlyList<TimeSpan> AllowedWindows => options.Value.AllowedTimeMachineWindows;

    /// <summary>Drops the cached choices, after a change.</summary>
    public void Invalidate() => _chosen.Invalidate();
}
