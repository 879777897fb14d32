using System.Diagnostics.Metrics;
using Berth.Registry.Collection;

namespace Berth.Collector.Running;

/// <summary>What collections free, as metrics (meter "Berth.Collector") next to the run history.</summary>
public sealed class CollectorMetrics
{
    private readonly Counter<long> _bytesFreed;
    private readonly Counter<long> _removed;
    private readonly Histogram<double> _duration;

    public CollectorMetrics(IMeterFactory meters)
    {
        var meter = meters.Create("Berth.Collector");
        _bytesFreed = meter.CreateCounter<long>("berth.collector.bytes_freed", "By", "Blob bytes garbage collection deleted");
        _removed = meter.CreateCounter<long>("berth.collector.removed", "{item}", "Tags, manifests, links and blobs garbage collection removed, by kind");
        _duration = meter.CreateHistogram<double>("berth.collector.run.duration", "s", "How long collections took");
    }

    public void Completed(CollectionReport report, TimeSpan duration, bool dryRun)
    {
        _duration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("dry_run", dryRun));
        if (dryRun) return;
        _bytesFreed.Add(report.BytesFreed);
        Add("tag_expired", report.TagsExpired);
        Add("tag_history", report.TagHistoryPruned);
        Add("manifest", report.ManifestsRemoved);
        Add("blob_link", report.BlobLinksRemoved);
        Add("blob", report.BlobsRemoved);
        Add("upload", report.UploadsRemoved);
        Add("orphan_file", report.OrphanFilesRemoved);
    }

    private void Add(string kind, int count)
    {
        if (count > 0) _removed.Add(count, new KeyValuePair<string, object?>("kind", kind));
    }
}
