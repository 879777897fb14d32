using System.ComponentModel.DataAnnotations;

namespace Berth.Access;

/// <summary>
/// What the token service and the registry agree on, bound from the "Tokens"
/// section so both read the same values whether they share a process or not.
/// </summary>
public sealed class TokenSettings
{
    public const string SectionName = "Tokens";

    /// <summary>The registry's service name: the token audience and the "service" of every challenge.</summary>
    [Required, RegularExpression("^[A-Za-z0-9._:-]{1,128}$")]
    public string Service { get; set; } = "berth";

    /// <summary>The token issuer ("iss").</summary>
    [Required, RegularExpression("^[A-Za-z0-9._:/-]{1,256}$")]
    public string Issuer { get; set; } = "berth-auth";

    /// <summary>How long an access token lives. Short: permission changes apply at the next token.</summary>
    [Range(typeof(TimeSpan), "00:00:10", "01:00:00")]
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The token endpoint clients are sent to. Unset, it is built from the address
    /// the client used (after the gateway's forwarded headers) plus /v2/auth.
    /// </summary>
    public string? Realm { get; set; }

    /// <summary>Where a registry without the Auth module in its process reads the signing keys (JWKS).</summary>
    public string? JwksUrl { get; set; }
}
