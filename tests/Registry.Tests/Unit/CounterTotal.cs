using System.Diagnostics.Metrics;

namespace Berth.Registry.Tests.Unit;

/// <summary>What one test's meters counted on a counter, from the moment this was made.</summary>
internal sealed class CounterTotal : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _total;

    public CounterTotal(IMeterFactory meters, string name)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Scope == meters && instrument.Name == name) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _total, value));
        _listener.Start();
    }

    public long Total => Interlocked.Read(ref _total);

    public void Dispose() => _listener.Dispose();
}
