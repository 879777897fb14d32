using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace Berth.Oci;

/// <summary>
/// A content digest as the OCI image spec defines it: <c>algorithm:encoded</c>.
/// Only the registered algorithms sha256 and sha512 are accepted, with lower-case
/// hex of the exact length, so a digest string is also a safe file name.
/// </summary>
public readonly record struct Digest(string Algorithm, string Hex)
{
    public const string Sha256 = "sha256";
    public const string Sha512 = "sha512";

    public override string ToString() => $"{Algorithm}:{Hex}";

    public static bool TryParse(string? value, [NotNullWhen(true)] out Digest? digest)
    {
        digest = null;
        if (string.IsNullOrEmpty(value)) return false;
        var colon = value.IndexOf(':');
        if (colon <= 0) return false;
        var algorithm = value[..colon];
        var hex = value[(colon + 1)..];
        var expectedLength = algorithm switch
        {
            Sha256 => 64,
            Sha512 => 128,
            _ => -1,
        };
        if (hex.Length != expectedLength || !IsLowerHex(hex)) return false;
        digest = new Digest(algorithm, hex);
        return true;
    }

    public static Digest Parse(string value) =>
        TryParse(value, out var digest) ? digest.Value : throw new FormatException($"'{value}' is not a valid digest");

    public IncrementalHash CreateHasher() => CreateHasher(Algorithm);

    public static IncrementalHash CreateHasher(string algorithm) => algorithm switch
    {
        Sha256 => IncrementalHash.CreateHash(HashAlgorithmName.SHA256),
        Sha512 => IncrementalHash.CreateHash(HashAlgorithmName.SHA512),
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "unsupported digest algorithm"),
    };

    public static Digest FromHash(string algorithm, byte[] hash) => new(algorithm, Convert.ToHexStringLower(hash));

    public static Digest Compute(ReadOnlySpan<byte> content, string algorithm = Sha256) => algorithm switch
    {
        Sha256 => new(algorithm, Convert.ToHexStringLower(SHA256.HashData(content))),
        Sha512 => new(algorithm, Convert.ToHexStringLower(SHA512.HashData(content))),
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "unsupported digest algorithm"),
    };

    private static bool IsLowerHex(string s)
    {
        foreach (var c in s)
        {
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f'))) return false;
        }
        return true;
    }
}
