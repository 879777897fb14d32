using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;

namespace Berth.Auth.Tokens;

/// <summary>
/// The ES256 (ECDSA P-256, SHA-256) keys tokens are signed with. One key signs;
/// keys it replaced keep verifying until every token they signed has expired,
/// so rotation needs no downtime. The public halves are published as a JWKS
/// document that the registry validates against, without calling Auth per request.
/// </summary>
public sealed class SigningKeyRing(TimeProvider clock)
{
    private readonly Lock _gate = new();
    private SigningKey? _active;
    private readonly List<SigningKey> _retiring = [];

    /// <summary>A key and, once replaced, the time after which it no longer verifies.</summary>
    public sealed record SigningKey(string KeyId, ECDsa Key, DateTimeOffset CreatedAt, DateTimeOffset? VerifiesUntil)
    {
        public ECDsaSecurityKey SecurityKey { get; } = new(Key) { KeyId = KeyId };
    }

    /// <summary>The signing key, made on first use.</summary>
    public SigningKey Active
    {
        get
        {
            lock (_gate) return _active ??= Create();
        }
    }

    /// <summary>
    /// Starts signing with a new key. The old one keeps verifying for
    /// <paramref name="tokenLifetime"/> (the longest a token it signed can live), then is dropped.
    /// </summary>
    public SigningKey Rotate(TimeSpan tokenLifetime)
    {
        lock (_gate)
        {
            if (_active is not null) _retiring.Add(_active with { VerifiesUntil = clock.GetUtcNow() + tokenLifetime });
            _active = Create();
            return _active;
        }
    }

    /// <summary>
    /// Adds a key kept from before a restart (see <see cref="Export"/>). The newest
    /// unretired key signs; any key that stops signing here keeps verifying for
    /// <paramref name="tokenLifetime"/>, as after <see cref="Rotate"/>.
    /// </summary>
    public void Import(string keyId, byte[] pkcs8PrivateKey, DateTimeOffset createdAt, DateTimeOffset? verifiesUntil, TimeSpan tokenLifetime)
    {
        var key = ECDsa.Create();
        key.ImportPkcs8PrivateKey(pkcs8PrivateKey, out _);
        lock (_gate)
        {
            var graceEnd = clock.GetUtcNow() + tokenLifetime;
            var imported = new SigningKey(keyId, key, createdAt, verifiesUntil);
            if (verifiesUntil is null && (_active is null || _active.CreatedAt < createdAt))
            {
                if (_active is not null) _retiring.Add(_active with { VerifiesUntil = graceEnd });
                _active = imported;
            }
            else
            {
                _retiring.Add(imported with { VerifiesUntil = verifiesUntil ?? graceEnd });
            }
        }
    }

    /// <summary>Every key that may still verify a token, the signing key first.</summary>
    public IReadOnlyList<SigningKey> VerificationKeys
    {
        get
        {
            lock (_gate)
            {
                var now = clock.GetUtcNow();
                _retiring.RemoveAll(k => k.VerifiesUntil <= now);
                return [.. (_active is null ? [] : new[] { _active }).Concat(_retiring)];
            }
        }
    }

    /// <summary>The private keys with their lifetimes, to be kept across restarts by whoever owns the storage.</summary>
    public IReadOnlyList<(string KeyId, byte[] Pkcs8, DateTimeOffset CreatedAt, DateTimeOffset? VerifiesUntil)> Export() =>
        [.. VerificationKeys.Select(k => (k.KeyId, k.Key.ExportPkcs8PrivateKey(), k.CreatedAt, k.VerifiesUntil))];

    /// <summary>The JWKS document (RFC 7517) of every verification key: public halves only.</summary>
    public string ToJwks()
    {
        var keys = VerificationKeys.Select(k =>
        {
            var p = k.Key.ExportParameters(includePrivateParameters: false);
            return new Dictionary<string, string>
            {
                ["kty"] = "EC",
                ["crv"] = "P-256",
                ["use"] = "sig",
                ["alg"] = "ES256",
                ["kid"] = k.KeyId,
                ["x"] = Base64UrlEncoder.Encode(p.Q.X),
                ["y"] = Base64UrlEncoder.Encode(p.Q.Y),
            };
        });
        return JsonSerializer.Serialize(new { keys });
    }

    private SigningKey Create()
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        // The key id is derived from the public key, so the same key always has the same id.
        var id = Base64UrlEncoder.Encode(SHA256.HashData(key.ExportSubjectPublicKeyInfo()))[..16];
        return new SigningKey(id, key, clock.GetUtcNow(), null);
    }
}
