using Berth.Access;
using Microsoft.IdentityModel.Tokens;

namespace Berth.Auth.Tokens;

/// <summary>A registry in the same process as Auth trusts the key ring directly: no JWKS round trip.</summary>
public sealed class KeyRingTrustedKeys(SigningKeyRing ring) : ITrustedKeySource
{
    public IEnumerable<SecurityKey> Keys => ring.VerificationKeys.Select(k => (SecurityKey)k.SecurityKey);
}
