namespace Berth.AuditLog.Shipping;

/// <summary>Wakes the sink shippers when entries were recorded, so shipping follows recording without polling delay.</summary>
public sealed class ShippingSignal
{
    private readonly List<SemaphoreSlim> _listeners = [];
    private readonly Lock _gate = new();

    /// <summary>A wake-up handle for one shipper.</summary>
    public SemaphoreSlim Listen()
    {
        var listener = new SemaphoreSlim(0, 1);
        lock (_gate) _listeners.Add(listener);
        return listener;
    }

    public void Wake()
    {
        lock (_gate)
        {
            foreach (var listener in _listeners)
                if (listener.CurrentCount == 0) listener.Release();
        }
    }
}
