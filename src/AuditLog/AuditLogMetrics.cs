using System.Diagnostics.Metrics;

namespace Berth.AuditLog;

/// <summary>The audit log's metrics (meter "Berth.AuditLog"): entries recorded, shipped, and how far each sink lags.</summary>
public sealed class AuditLogMetrics : IDisposable
{
    public const string MeterName = "Berth.AuditLog";

    private readonly Meter _meter;
    private readonly Counter<long> _recorded;
    private readonly Counter<long> _shipped;
    private readonly Counter<long> _shipFailures;
    private readonly Counter<long> _rejected;
    private readonly Dictionary<string, (long Entries, double Seconds)> _lag = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public AuditLogMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _recorded = _meter.CreateCounter<long>("berth.auditlog.entries.recorded", "{entry}", "Audit entries written to the log database");
        _shipped = _meter.CreateCounter<long>("berth.auditlog.entries.shipped", "{entry}", "Audit entries a sink confirmed");
        _shipFailures = _meter.CreateCounter<long>("berth.auditlog.sink.failures", "{attempt}", "Shipping attempts that failed or were only partly accepted");
        _rejected = _meter.CreateCounter<long>("berth.auditlog.sink.rejected", "{entry}", "Audit entries a sink refused for good (counted as delivered so the log moves on)");
        _meter.CreateObservableGauge("berth.auditlog.sink.lag", () => Measure(l => l.Entries), "{entry}", "Entries recorded but not yet confirmed by the sink");
        _meter.CreateObservableGauge("berth.auditlog.sink.lag.seconds", () => Measure(l => l.Seconds), "s", "Age of the oldest entry the sink has not confirmed");
    }

    public void Recorded(int count) => _recorded.Add(count);

    public void Shipped(string sink, int count) => _shipped.Add(count, new KeyValuePair<string, object?>("sink", sink));

    public void ShipFailed(string sink) => _shipFailures.Add(1, new KeyValuePair<string, object?>("sink", sink));

    public void Rejected(string sink, int count) => _rejected.Add(count, new KeyValuePair<string, object?>("sink", sink));

    public void SetLag(string sink, long entries, double seconds)
    {
        lock (_gate) _lag[sink] = (entries, seconds);
    }

    /// <summary>A sink's last known lag, for tests and the health of the shipping loop.</summary>
    public (long Entries, double Seconds) LagOf(string sink)
    {
        lock (_gate) return _lag.TryGetValue(sink, out var lag) ? lag : (0, 0);
    }

    private IEnumerable<Measurement<double>> Measure(Func<(long Entries, double Seconds), double> pick)
    {
        lock (_gate)
            return [.. _lag.Select(l => new Measurement<double>(pick(l.Value), new KeyValuePair<string, object?>("sink", l.Key)))];
    }

    public void Dispose() => _meter.Dispose();
}
