namespace Berth.Collector.Data;

/// <summary>
/// Tags of a namespace (or of one repository in it) whose names match the pattern
/// cannot be moved, deleted or given an expiration once they exist.
/// </summary>
public sealed class ImmutabilityRule
{
    public long Id { get; set; }
    public required string Namespace { get; set; }
    /// <summary>Null: every repository of the namespace.</summary>
    public string? Repository { get; set; }
    /// <summary>A .NET regular expression the whole tag name must match.</summary>
    public required string TagPattern { get; set; }
    public required string CreatedBy { get; set; }
    public DateTime CreatedAt { get; set; }
}
