namespace Berth.AuditLog.Data;

/// <summary>A text that <see cref="PullEntry"/> rows refer to by id (a repository, a performer, a digest, …); written once, never changed.</summary>
public sealed class AuditName
{
    /// <summary>The longest text kept: as long as the longest entry column a pull fills from it (a user agent, a repository).</summary>
    public const int MaxLength = 512;

    public int Id { get; set; }

    public required string Name { get; set; }
}
