using System.Text.Json;
using Berth.Oci;

namespace Berth.Registry.Services;

/// <summary>
/// Quay's <c>quay.expires-after</c> image label: a tag pushed with an image whose
/// config carries it (e.g. <c>LABEL quay.expires-after=2w</c>) expires that long
/// after the push. The value is a whole number and a unit: s, m, h, d or w.
/// </summary>
public static class ExpiryLabel
{
    public const string Name = "quay.expires-after";

    /// <summary>Configs larger than this are not read for the label (image configs are a few KiB).</summary>
    public const long MaxConfigBytes = 1 << 20;

    /// <summary>The label's duration, null when the config has no such label; a malformed value is refused.</summary>
    public static TimeSpan? FromConfig(ReadOnlySpan<byte> config)
    {
        string? value;
        try
        {
            using var document = JsonDocument.Parse(config.ToArray());
            value = document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("config", out var inner) && inner.ValueKind == JsonValueKind.Object
                && inner.TryGetProperty("Labels", out var labels) && labels.ValueKind == JsonValueKind.Object
                && labels.TryGetProperty(Name, out var label) && label.ValueKind == JsonValueKind.String
                    ? label.GetString() : null;
        }
        catch (JsonException)
        {
            // Not JSON: an artifact's config, which carries no labels.
            return null;
        }
        if (value is null) return null;
        return Parse(value) ?? throw ErrorCode.ManifestInvalid.With(
            $"label {Name}='{(value.Length > 40 ? value[..40] : value)}' is not a duration such as 90m, 12h, 1d or 2w", new { label = Name });
    }

    public static TimeSpan? Parse(string value)
    {
        value = value.Trim();
        if (value.Length < 2 || !int.TryParse(value.AsSpan(0, value.Length - 1), System.Globalization.NumberStyles.None, null, out var amount) || amount <= 0)
            return null;
        return value[^1] switch
        {
            's' => TimeSpan.FromSeconds(amount),
            'm' => TimeSpan.FromMinutes(amount),
            'h' => TimeSpan.FromHours(amount),
            'd' => TimeSpan.FromDays(amount),
            'w' => TimeSpan.FromDays(7.0 * amount),
            _ => null,
        };
    }
}
