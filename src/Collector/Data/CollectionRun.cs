namespace Berth.Collector.Data;

/// <summary>One collection: what it covered, how far it got and what it removed.</summary>
public sealed class CollectionRun
{
    public Guid Id { get; set; }
    /// <summary>Set for a run limited to one namespace ("" is the namespace of one-part repository names).</summary>
    public string? Namespace { get; set; }
    /// <summary>Set for a run limited to one repository.</summary>
    public string? Repository { get; set; }
    public bool DryRun { get; set; }
    /// <summary>"running", "succeeded" or "failed". A run found "running" at start-up was cut off by a crash and is resumed.</summary>
    public required string Status { get; set; }
    public required string Phase { get; set; }
    /// <summary>"schedule" or the name of the user who asked for it.</summary>
    public required string RequestedBy { get; set; }
    public DateTime StartedAt { get; set; }
    public DateTime? FinishedAt { get; set; }
    /// <summary>How many times the run was resumed after a crash.</summary>
    public int Resumes { get; set; }
    public int TagsPruned { get; set; }
    public int TagsExpired { get; set; }
    public int TagHistoryPruned { get; set; }
    public int ManifestsRemoved { get; set; }
    public int BlobLinksRemoved { get; set; }
    public int BlobsRemoved { get; set; }
    public long BytesFreed { get; set; }
    public int UploadsRemoved { get; set; }
    public int OrphanFilesRemoved { get; set; }
    public string? Error { get; set; }

    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
}
