namespace Berth.Access;

/// <summary>What a token grants and to whom, for the registry named by <see cref="Audience"/>.</summary>
public sealed record TokenGrant(string Subject, string Audience, IReadOnlyList<ResourceScope> Access)
{
    /// <summary>When the token carrying this grant stops being valid (set by the validator).</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>The grant's entry for a resource, if the token names it at all.</summary>
    public ResourceScope? Find(string type, string name) =>
        Access.FirstOrDefault(a => a.Type == type && a.Name == name);

    public bool Allows(string type, string name, string action) => Find(type, name)?.Allows(action) == true;
}
