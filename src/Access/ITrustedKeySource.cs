using Microsoft.IdentityModel.Tokens;

namespace Berth.Access;

/// <summary>The public keys a registry accepts token signatures from: Auth's key ring in-process, its JWKS otherwise.</summary>
public interface ITrustedKeySource
{
    IEnumerable<SecurityKey> Keys { get; }
}
