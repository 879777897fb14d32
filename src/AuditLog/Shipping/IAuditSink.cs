using Berth.AuditLog.Data;

namespace Berth.AuditLog.Shipping;

/// <summary>
/// Somewhere the audit log is shipped to (Elasticsearch, Splunk). The shipper hands
/// it entries in id order and keeps a durable checkpoint of what it confirmed.
/// </summary>
public interface IAuditSink
{
    /// <summary>The checkpoint's key: stable across restarts ("elasticsearch", "splunk").</summary>
    string Name { get; }

    /// <summary>One-time set-up at the sink (index template, ILM policy); retried until it succeeds, before anything is shipped.</summary>
    Task PrepareAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Sends <paramref name="batch"/> (ascending ids). Returns how many entries, from the
    /// start of the batch, the sink has durably accepted: the checkpoint moves past
    /// exactly those, and the rest are sent again. Sending an entry again must not
    /// duplicate it at the sink (entry ids are the sink's document ids). Throws when
    /// the sink could not be reached at all.
    /// </summary>
    Task<int> ShipAsync(IReadOnlyList<AuditEntry> batch, CancellationToken cancellationToken);
}
