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
    // Every key held; at most one is unretired (VerifiesUntil null), and that one is _active.
    private readonly List<SigningKey> _keys = [];
    private SigningKey? _active;

    /// <summary>A key and, once replaced, the time after which it no longer verifies.</summary>
    public sealed record SigningKey(string KeyId, ECDsa Key, DateTimeOffset CreatedAt, DateTimeOffset? VerifiesUntil)
    {
        public ECDsaSecurityKey SecurityKey { get; } = new(Key) { KeyId = KeyId };
    }

    /// <summary>A key as storage keeps it: the private key (PKCS#8) and its lifetimes.</summary>
    public sealed record StoredKey(string KeyId, byte[] Pkcs8, DateTimeOffset CreatedAt, DateTimeOffset? VerifiesUntil);

    /// <summary>The signing key, made on first use.</summary>
    public SigningKey Active
    {
        get
        {
            lock (_gate)
            {
                if (_active is null)
                {
                    _active = Create();
                    _keys.Add(_active);
                }
                return _active;
            }
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
            if (_active is not null) Retire(_active.KeyId, Now() + tokenLifetime);
            _active = Create();
            _keys.Add(_active);
            return _active;
        }
    }

    /// <summary>
    /// Brings the ring in line with <paramref name="stored"/>, the keys every Auth
    /// instance saves: keys not held yet are added, retirements made elsewhere apply
    /// here, and expired keys are dropped. The newest unretired key signs, so every
    /// instance signs with the same key; any other key that stops signing here keeps
    /// verifying for <paramref name="tokenLifetime"/>, as after <see cref="Rotate"/>.
    /// Keys held but not stored are kept (they may not be saved yet).
    /// Returns whether the signing key or the set of keys changed.
    /// </summary>
    public bool Synchronize(IEnumerable<StoredKey> stored, TimeSpan tokenLifetime)
    {
        lock (_gate)
        {
            var now = Now();
            var changed = false;
            foreach (var key in stored.Where(k => k.VerifiesUntil is null || k.VerifiesUntil > now))
            {
                var held = _keys.Find(k => k.KeyId == key.KeyId);
                if (held is null)
                {
                    _keys.Add(FromStorage(key));
                    changed = true;
                }
                else if (key.VerifiesUntil is { } until && Later(held.VerifiesUntil, until) != held.VerifiesUntil)
                {
                    Retire(held.KeyId, until);
                    changed = true;
                }
            }
            var signer = _keys.Where(k => k.VerifiesUntil is null)
                .OrderByDescending(k => k.CreatedAt).ThenByDescending(k => k.KeyId, StringComparer.Ordinal).FirstOrDefault();
            // Another instance rotated (or rotated at the same time as this one): the key this
            // ring signed with, and any other unretired one, verifies until its tokens expire.
            foreach (var superseded in _keys.Where(k => k.KeyId != signer?.KeyId && (k.VerifiesUntil is null || k.KeyId == _active?.KeyId)).ToList())
                Retire(superseded.KeyId, now + tokenLifetime);
            changed |= signer?.KeyId != _active?.KeyId;
            _active = signer;
            changed |= _keys.RemoveAll(k => k.VerifiesUntil <= now) > 0;
            return changed;
        }
    }

    /// <summary>
    /// The later end of verification: retirement is one-way (null, still signing, gives way
    /// to a time) and a grace only grows, so instances that learn of each other's changes
    /// in any order end up agreeing.
    /// </summary>
    public static DateTimeOffset? Later(DateTimeOffset? a, DateTimeOffset? b) =>
        a is null ? b : b is null ? a : a > b ? a : b;

    /// <summary>Every key that may still verify a token, the signing key first.</summary>
    public IReadOnlyList<SigningKey> VerificationKeys
    {
        get
        {
            lock (_gate)
            {
                var now = Now();
                _keys.RemoveAll(k => k.VerifiesUntil <= now);
                return [.. _keys.OrderBy(k => k.VerifiesUntil is null ? 0 : 1).ThenByDescending(k => k.CreatedAt)];
            }
        }
    }

    /// <summary>The private keys with their lifetimes, to be kept across restarts by whoever owns the storage.</summary>
    public IReadOnlyList<StoredKey> Export() =>
        [.. VerificationKeys.Select(k => new StoredKey(k.KeyId, k.Key.ExportPkcs8PrivateKey(), k.CreatedAt, k.VerifiesUntil))];

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

    /// <summary>Sets a held key's end of verification to the later of its own and <paramref name="until"/>. Callers hold the lock.</summary>
    private void Retire(string keyId, DateTimeOffset until)
    {
        var index = _keys.FindIndex(k => k.KeyId == keyId);
        _keys[index] = _keys[index] with { VerifiesUntil = Later(_keys[index].VerifiesUntil, until) };
    }

    /// <summary>
    /// Now, to the microsecond: what the database keeps of a time, so times read back
    /// compare equal to the ones written.
    /// </summary>
    private DateTimeOffset Now()
    {
        var now = clock.GetUtcNow();
        return now.AddTicks(-(now.UtcTicks % 10));
    }

    private static SigningKey FromStorage(StoredKey stored)
    {
        var key = ECDsa.Create();
        key.ImportPkcs8PrivateKey(stored.Pkcs8, out _);
        return new SigningKey(stored.KeyId, key, stored.CreatedAt, stored.VerifiesUntil);
    }

    private SigningKey Create()
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        // The key id is derived from the public key, so the same key always has the same id.
        var id = Base64UrlEncoder.Encode(SHA256.HashData(key.ExportSubjectPublicKeyInfo()))[..16];
        return new SigningKey(id, key, Now(), null);
    }
}
