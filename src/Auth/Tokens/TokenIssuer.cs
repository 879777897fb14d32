using System.Security.Claims;
using Berth.Access;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Berth.Auth.Tokens;

/// <summary>A signed token and when it expires.</summary>
public sealed record IssuedToken(string Token, DateTimeOffset IssuedAt, TimeSpan Lifetime);

/// <summary>
/// Signs registry access tokens as the Docker token spec describes them: a JWT
/// with iss, sub, aud, exp, nbf, iat, jti and an "access" array of
/// {type, name, actions}, signed ES256 with the key ring's active key and its kid.
/// </summary>
public sealed class TokenIssuer(SigningKeyRing keys, TimeProvider clock, string issuer)
{
    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    public string Issuer { get; } = issuer;

    public IssuedToken Issue(TokenGrant grant, TimeSpan lifetime)
    {
        var now = clock.GetUtcNow();
        var signing = keys.Active;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = grant.Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = (now + lifetime).UtcDateTime,
            Subject = new ClaimsIdentity([new Claim(JwtRegisteredClaimNames.Sub, grant.Subject)]),
            Claims = new Dictionary<string, object>
            {
                [JwtRegisteredClaimNames.Jti] = Guid.NewGuid().ToString("N"),
                ["access"] = grant.Access.Select(a => new Dictionary<string, object>
                {
                    ["type"] = a.Type,
                    ["name"] = a.Name,
                    ["actions"] = a.Actions.Order(StringComparer.Ordinal).ToArray(),
                }).ToArray(),
            },
            SigningCredentials = new SigningCredentials(signing.SecurityKey, SecurityAlgorithms.EcdsaSha256),
        };
        return new IssuedToken(Handler.CreateToken(descriptor), now, lifetime);
    }
}
