using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Berth.Registry.Services;

/// <summary>
/// Loads the blob links other instances make into this instance's cache before a client
/// asks for them here. Behind the Gateway an image's layers are pushed through one
/// instance and pulled through any: without this, about half of the first pulls after a
/// push paid a database round trip for the link. Hints arrive through the shared cache
/// tier and are gathered for a moment, so that a push of many layers costs one query
/// per repository rather than one per layer. A full queue drops hints (a dropped one
/// costs a later miss, nothing else).
/// </summary>
public sealed class BlobLinkWarmer : BackgroundService
{
    private const int QueueLength = 4096;
    private const int BatchSize = 256;

    /// <summary>Short next to the seconds between a push and the first pulls it prompts.</summary>
    private static readonly TimeSpan Gather = TimeSpan.FromMilliseconds(50);

    private readonly Channel<(long RepositoryId, string Digest)> _hints = Channel.CreateBounded<(long, string)>(
        new BoundedChannelOptions(QueueLength) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    private readonly BlobService _blobs;
    private readonly ILogger<BlobLinkWarmer> _logger;

    public BlobLinkWarmer(RegistryCache cache, BlobService blobs, ILogger<BlobLinkWarmer> logger)
    {
        _blobs = blobs;
        _logger = logger;
        cache.BlobLinkHinted += (repositoryId, digest) => _hints.Writer.TryWrite((repositoryId, digest));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<(long, string)>(BatchSize);
        while (await _hints.Reader.WaitToReadAsync(stoppingToken))
        {
            await Task.Delay(Gather, stoppingToken);
            batch.Clear();
            while (batch.Count < BatchSize && _hints.Reader.TryRead(out var hint)) batch.Add(hint);
            try
            {
                await _blobs.WarmLinksAsync(batch, stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // The database is unwell: requests will say so; warming is only a shortcut.
                _logger.LogDebug(e, "Could not warm {Count} hinted blob links", batch.Count);
            }
        }
    }
}
