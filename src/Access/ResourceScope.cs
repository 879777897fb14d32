namespace Berth.Access;

/// <summary>
/// One entry of a token request's scope or of a token's "access" claim, as the
/// Docker token spec writes it: <c>repository:acme/web:pull,push</c> or
/// <c>registry:catalog:*</c>. Actions are kept sorted and distinct.
/// </summary>
public sealed record ResourceScope(string Type, string Name, IReadOnlySet<string> Actions)
{
    public const string Repository = "repository";
    public const string Registry = "registry";
    public const string Catalog = "catalog";

    public const string Pull = "pull";
    public const string Push = "push";
    public const string Delete = "delete";
    public const string All = "*";

    public override string ToString() => $"{Type}:{Name}:{string.Join(',', Actions.Order(StringComparer.Ordinal))}";

    public bool Allows(string action) => Actions.Contains(action) || Actions.Contains(All);
}
