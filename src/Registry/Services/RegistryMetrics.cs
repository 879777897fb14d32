using System.Diagnostics.Metrics;

namespace Berth.Registry.Services;

/// <summary>The registry's domain metrics (meter "Berth.Registry"), exported by ServiceDefaults' OpenTelemetry set-up.</summary>
public sealed class RegistryMetrics : IDisposable
{
    public const string MeterName = "Berth.Registry";

    private readonly Meter _meter;
    private readonly Counter<long> _blobsUploaded;
    private readonly Counter<long> _blobBytesUploaded;
    private readonly Counter<long> _digestMismatches;
    private readonly Counter<long> _manifestsPushed;
    private readonly Counter<long> _manifestsServed;
    private readonly Counter<long> _blobBytesServed;
    private readonly Counter<long> _pullEventsDropped;
    private readonly Counter<long> _pullEventsDeferred;
    private readonly Counter<long> _pullEventsEscalated;

    public RegistryMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _blobsUploaded = _meter.CreateCounter<long>("berth.registry.blobs.uploaded", "{blob}", "Blobs whose upload was verified and committed");
        _blobBytesUploaded = _meter.CreateCounter<long>("berth.registry.blobs.uploaded.bytes", "By", "Bytes of committed blob uploads");
        _digestMismatches = _meter.CreateCounter<long>("berth.registry.uploads.digest_mismatch", "{upload}", "Uploads refused because the content did not match the claimed digest");
        _manifestsPushed = _meter.CreateCounter<long>("berth.registry.manifests.pushed", "{manifest}", "Manifests accepted by PUT");
        _manifestsServed = _meter.CreateCounter<long>("berth.registry.manifests.served", "{manifest}", "Manifest GET and HEAD answers");
        _blobBytesServed = _meter.CreateCounter<long>("berth.registry.blobs.served.bytes", "By", "Blob bytes answered to GET (whole or ranged)");
        _pullEventsDropped = _meter.CreateCounter<long>("berth.registry.pull_events.dropped", "{event}",
            "Pull events not recorded because the queue was full or the outbox write failed");
        _pullEventsDeferred = _meter.CreateCounter<long>("berth.registry.pull_events.deferred", "{event}",
            "Pull events whose direct publish failed, sent through the outbox instead");
        _pullEventsEscalated = _meter.CreateCounter<long>("berth.registry.pull_events.escalated", "{event}",
            "Pull events written at normal priority, taking CPU from serving, because more than half the queue waited");
    }

    public void BlobUploaded(long bytes)
    {
        _blobsUploaded.Add(1);
        _blobBytesUploaded.Add(bytes);
    }

    public void DigestMismatch() => _digestMismatches.Add(1);

    public void ManifestPushed() => _manifestsPushed.Add(1);

    public void ManifestServed() => _manifestsServed.Add(1);

    public void BlobServed(long bytes) => _blobBytesServed.Add(bytes);

    public void PullEventsDropped(int count) => _pullEventsDropped.Add(count);

    public void PullEventsDeferred(int count) => _pullEventsDeferred.Add(count);

    public void PullEventsEscalated(int count) => _pullEventsEscalated.Add(count);

    public void Dispose() => _meter.Dispose();
}
