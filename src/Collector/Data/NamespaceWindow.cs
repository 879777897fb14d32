namespace Berth.Collector.Data;

/// <summary>A namespace's own time-machine window, set through the API (it overrides the configured one).</summary>
public sealed class NamespaceWindow
{
    public required string Namespace { get; set; }
    public long WindowSeconds { get; set; }
    public required string SetBy { get; set; }
    public DateTime SetAt { get; set; }
}
