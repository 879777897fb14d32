using System.Text;

namespace Berth.Auth.Accounts;

/// <summary>Reads "Basic base64(user:secret)"; anything malformed is simply not credentials.</summary>
public static class BasicCredentials
{
    public static bool TryParse(string? header, out string user, out string secret)
    {
        user = secret = "";
        if (header is null || !header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase) || header.Length > 8192) return false;
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(header[6..].Trim());
        }
        catch (FormatException)
        {
            return false;
        }
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
        var colon = text.IndexOf(':');
        if (colon <= 0) return false;
        user = text[..colon];
        secret = text[(colon + 1)..];
        return true;
    }
}
