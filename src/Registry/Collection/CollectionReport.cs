namespace Berth.Registry.Collection;

/// <summary>The stages of a collection, in the order they run.</summary>
public enum CollectionPhase
{
    RecoverTrash,
    ExpireTags,
    PruneTagHistory,
    CollectManifests,
    CollectBlobLinks,
    CollectBlobs,
    RemoveStaleUploads,
    RemoveOrphanFiles,
    Done,
}

/// <summary>What a collection removed so far (or, in a dry run, would remove).</summary>
public sealed class CollectionReport
{
    public CollectionPhase Phase { get; set; }
    public int TagsExpired { get; set; }
    public int TagHistoryPruned { get; set; }
    public int ManifestsRemoved { get; set; }
    public int BlobLinksRemoved { get; set; }
    public int BlobsRemoved { get; set; }
    public long BytesFreed { get; set; }
    public int UploadsRemoved { get; set; }
    public int OrphanFilesRemoved { get; set; }
    /// <summary>Blobs found in the trash after a crash, put back or deleted.</summary>
    public int TrashRecovered { get; set; }

    /// <summary>Nothing removed (the phase aside).</summary>
    public bool IsEmpty => TagsExpired == 0 && TagHistoryPruned == 0 && ManifestsRemoved == 0 && BlobLinksRemoved == 0
        && BlobsRemoved == 0 && BytesFreed == 0 && UploadsRemoved == 0 && OrphanFilesRemoved == 0;

    /// <summary>Adds what one batch removed.</summary>
    public void Add(CollectionReport removed)
    {
        TagsExpired += removed.TagsExpired;
        TagHistoryPruned += removed.TagHistoryPruned;
        ManifestsRemoved += removed.ManifestsRemoved;
        BlobLinksRemoved += removed.BlobLinksRemoved;
        BlobsRemoved += removed.BlobsRemoved;
        BytesFreed += removed.BytesFreed;
        UploadsRemoved += removed.UploadsRemoved;
        OrphanFilesRemoved += removed.OrphanFilesRemoved;
    }
}
