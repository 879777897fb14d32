namespace Berth.Collector.Data;

/// <summary>A namespace's storage quota (deduplicated bytes): past the warning limit pushes are logged, past the reject limit refused.</summary>
public sealed class NamespaceQuota
{
    public required string Namespace { get; set; }
    public long? WarningBytes { get; set; }
    public long? RejectBytes { get; set; }
    public required string SetBy { get; set; }
    public DateTime SetAt { get; set; }
}
