using System.Threading.Channels;
using Berth.Contracts.Registry;

namespace Berth.Registry.Services;

/// <summary>
/// Where manifest GETs leave their <see cref="ManifestPulled"/> events. A pull is
/// the hot path, so it only enqueues in memory; <see cref="PullEventWriter"/>
/// writes the queue to the outbox in batches. While the database is away the
/// writer retries and the queue fills; a full queue drops the event and counts
/// it rather than slow the pull.
/// </summary>
public sealed class PullEventQueue(RegistryMetrics metrics)
{
    /// <summary>Several seconds of pulls at full speed on a small machine (about eight on two cores).</summary>
    public const int Capacity = 1 << 16;

    private readonly Channel<ManifestPulled> _channel = Channel.CreateBounded<ManifestPulled>(new BoundedChannelOptions(Capacity)
    {
        FullMode = BoundedChannelFullMode.Wait,
        SingleReader = true,
    });

    public void Record(ManifestPulled pulled)
    {
        if (!_channel.Writer.TryWrite(pulled)) metrics.PullEventsDropped(1);
    }

    /// <summary>Pulls waiting to be written.</summary>
    public int Count => _channel.Reader.Count;

    internal ChannelReader<ManifestPulled> Reader => _channel.Reader;
}
