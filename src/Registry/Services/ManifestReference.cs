using Berth.Oci;

namespace Berth.Registry.Services;

/// <summary>The reference part of /v2/&lt;name&gt;/manifests/&lt;reference&gt;: a tag or a digest.</summary>
public readonly record struct ManifestReference(string? Tag, Digest? Digest)
{
    public override string ToString() => Tag ?? Digest!.Value.ToString();

    public static ManifestReference Parse(string reference)
    {
        if (reference.Contains(':'))
        {
            return Oci.Digest.TryParse(reference, out var digest)
                ? new ManifestReference(null, digest)
                : throw ErrorCode.DigestInvalid.With($"'{Truncate(reference)}' is not a valid digest (sha256 or sha512, lower-case hex)");
        }
        return Names.IsValidTag(reference)
            ? new ManifestReference(reference, null)
            : throw ErrorCode.ManifestInvalid.With($"'{Truncate(reference)}' is not a valid tag: [a-zA-Z0-9_][a-zA-Z0-9._-]{{0,127}}");
    }

    private static string Truncate(string value) => value.Length <= 140 ? value : value[..140] + "…";
}
