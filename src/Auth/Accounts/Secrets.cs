using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace Berth.Auth.Accounts;

/// <summary>
/// Random bearer secrets (robot, app and refresh tokens): 256 random bits,
/// stored only as a SHA-256 hash and compared in constant time.
/// </summary>
public static class Secrets
{
    public static string NewToken() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));

    public static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    public static bool Matches(string presented, byte[] storedHash) => CryptographicOperations.FixedTimeEquals(Hash(presented), storedHash);
}
