using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Berth.Access;

/// <summary>The outcome of checking a bearer token: what it grants, or why it was refused.</summary>
public sealed record TokenCheck(TokenGrant? Grant, string? Failure)
{
    public bool IsValid => Grant is not null;
}

/// <summary>
/// Checks a registry access token locally: ES256 only (so "alg": "none" and
/// algorithm swaps fail), signed by a key the ring still trusts, from our
/// issuer, for this registry's audience, within its lifetime (30 s skew), and
/// with a well-formed access claim. A token signed by a key not known yet (Auth
/// rotated moments ago) is checked once more after <paramref name="learnKey"/>
/// has looked for that key.
/// </summary>
public sealed class TokenValidator(
    Func<IEnumerable<SecurityKey>> trustedKeys, TimeProvider clock, string issuer, string audience, Func<string, ValueTask<bool>>? learnKey = null)
{
    private static readonly JsonWebTokenHandler Handler = new();

    public async Task<TokenCheck> ValidateAsync(string token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 16 * 1024) return new TokenCheck(null, "token is empty or too long");
        var result = await Handler.ValidateTokenAsync(token, Parameters());
        if (!result.IsValid && learnKey is not null && UnknownKeyId(result) is { } keyId && await learnKey(keyId))
            result = await Handler.ValidateTokenAsync(token, Parameters());
        if (!result.IsValid) return new TokenCheck(null, result.Exception?.GetType().Name ?? "invalid token");

        var jwt = (JsonWebToken)result.SecurityToken;
        if (!TryReadAccess(jwt, out var access)) return new TokenCheck(null, "malformed access claim");
        return new TokenCheck(new TokenGrant(jwt.Subject ?? "", audience, access) { ExpiresAt = new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero) }, null);
    }

    private TokenValidationParameters Parameters() =>
        new()
        {
            ValidIssuer = issuer,
            ValidAudience = audience,
            ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
            IssuerSigningKeys = trustedKeys(),
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ValidateLifetime = true,
            ClockSkew = TimeSpan.FromSeconds(30),
            LifetimeValidator = (notBefore, expires, _, p) =>
            {
                var now = clock.GetUtcNow().UtcDateTime;
                return expires is { } e && now <= e + p.ClockSkew && (notBefore is not { } nb || now >= nb - p.ClockSkew);
            },
            // The refused token's header names its key: see UnknownKeyId.
            IncludeTokenOnFailedValidation = true,
        };

    /// <summary>The key id of a refused token when it names a key that is not trusted (yet).</summary>
    private string? UnknownKeyId(TokenValidationResult refused) =>
        refused.TokenOnFailedValidation is JsonWebToken { Kid: { Length: > 0 } kid } && !trustedKeys().Any(k => k.KeyId == kid) ? kid : null;

    private static bool TryReadAccess(JsonWebToken jwt, out List<ResourceScope> access)
    {
        access = [];
        if (!jwt.TryGetPayloadValue<JsonElement>("access", out var element)) return true;
        if (element.ValueKind != JsonValueKind.Array) return false;
        foreach (var item in element.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object
                || !item.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String
                || !item.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String
                || !item.TryGetProperty("actions", out var actions) || actions.ValueKind != JsonValueKind.Array)
                return false;
            var set = actions.EnumerateArray().Where(a => a.ValueKind == JsonValueKind.String).Select(a => a.GetString()!).ToHashSet(StringComparer.Ordinal);
            access.Add(new ResourceScope(type.GetString()!, name.GetString()!, set));
        }
        return true;
    }
}
