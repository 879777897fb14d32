using Microsoft.IdentityModel.Tokens;

namespace Berth.Access;

/// <summary>The public keys a registry accepts token signatures from: Auth's key ring in-process, its JWKS otherwise.</summary>
public interface ITrustedKeySource
{
    IEnumerable<SecurityKey> Keys { get; }

    /// <summary>
    /// Asked when a token names a key that is not among <see cref="Keys"/>: a source that
    /// can look again does so (as often as it sees fit) and says whether it knows the key now.
    /// </summary>
    ValueTask<bool> TryLearnKeyAsync(string keyId) => ValueTask.FromResult(false);
}
