using Berth.Collector.Data;

namespace Berth.Collector.Policies;

/// <summary>
/// A policy table as the registry's hot paths consult it: built from the database at
/// most every few seconds (a push or restore must not wait on a query each), and again
/// at once after <see cref="Invalidate"/> (a change made through this instance). A change
/// made through another instance is seen within <see cref="RefreshEvery"/>.
/// </summary>
public sealed class PolicySnapshot<T>(CollectorDb collectorDb, TimeProvider clock, Func<CollectorDbContext, T> build) where T : class
{
    public static readonly TimeSpan RefreshEvery = TimeSpan.FromSeconds(5);
    private volatile Entry? _entry;

    private sealed record Entry(DateTimeOffset LoadedAt, T Value);

    public T Current
    {
        get
        {
            var now = clock.GetUtcNow();
            if (_entry is { } entry && now - entry.LoadedAt < RefreshEvery) return entry.Value;
            using var db = collectorDb.Open();
            var value = build(db);
            _entry = new Entry(now, value);
            return value;
        }
    }

    public void Invalidate() => _entry = null;
}
