using System.Text.Json;

namespace Berth.Oci;

/// <summary>
/// Reads the parts of an image manifest, image index, Docker schema 2 manifest or
/// Docker manifest list that the registry enforces. Anything malformed becomes
/// MANIFEST_INVALID with a message that says what is wrong.
/// </summary>
public static class ManifestParser
{
    public static ParsedManifest Parse(ReadOnlyMemory<byte> content, string? contentType)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(content, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw ErrorCode.ManifestInvalid.With($"manifest is not valid JSON: {e.Message}");
        }

        using (document)
        {
            try
            {
                return Read(document.RootElement, contentType);
            }
            catch (InvalidOperationException e)
            {
                // JsonDocument checks structure only; a string that is not valid UTF-8, or a lone
                // surrogate escape such as "\ud800", fails when it is read, and must not become a 500.
                throw ErrorCode.ManifestInvalid.With($"manifest has a string that is not valid Unicode: {e.Message}");
            }
        }
    }

    private static ParsedManifest Read(JsonElement root, string? contentType)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw ErrorCode.ManifestInvalid.With("manifest must be a JSON object");

        var declared = OptionalString(root, "mediaType");
        var header = NormalizeContentType(contentType);
        var mediaType = ResolveMediaType(root, declared, header);

        if (MediaTypes.IsSchema1(mediaType) || (root.TryGetProperty("schemaVersion", out var v1) && v1.ValueKind == JsonValueKind.Number && v1.TryGetInt32(out var n1) && n1 == 1))
            throw ErrorCode.ManifestInvalid.With("Docker schema 1 manifests are not supported; push with a client that writes schema 2 or OCI manifests");

        if (!MediaTypes.IsSupportedManifest(mediaType))
            throw ErrorCode.ManifestInvalid.With($"unsupported manifest media type '{mediaType}'");

        if (!root.TryGetProperty("schemaVersion", out var schema) || schema.ValueKind != JsonValueKind.Number
            || !schema.TryGetInt32(out var schemaVersion) || schemaVersion != 2)
            throw ErrorCode.ManifestInvalid.With("schemaVersion must be 2");

        var artifactType = OptionalString(root, "artifactType");
        var subject = root.TryGetProperty("subject", out var subjectElement) ? ReadDescriptor(subjectElement, "subject") : null;
        var annotations = ReadAnnotations(root);

        if (MediaTypes.IsIndex(mediaType))
        {
            var children = ReadDescriptorArray(root, "manifests", required: true);
            foreach (var child in children)
            {
                if (!MediaTypes.IsSupportedManifest(child.MediaType) && !IsArtifactManifestType(child.MediaType))
                    throw ErrorCode.ManifestInvalid.With($"index entry {child.Digest} has media type '{child.MediaType}', which is not a manifest");
            }
            return new ParsedManifest(mediaType, artifactType, null, [], children, subject, annotations);
        }

        if (!root.TryGetProperty("config", out var configElement))
            throw ErrorCode.ManifestInvalid.With("image manifest has no config");
        var config = ReadDescriptor(configElement, "config");
        var layers = ReadDescriptorArray(root, "layers", required: true);
        return new ParsedManifest(mediaType, artifactType, config, layers, [], subject, annotations);
    }

    private static bool IsArtifactManifestType(string mediaType) => mediaType.EndsWith("+json", StringComparison.Ordinal);

    private static string ResolveMediaType(JsonElement root, string? declared, string? header)
    {
        if (declared is not null && header is not null && declared != header && !IsGenericJson(header))
            throw ErrorCode.ManifestInvalid.With($"Content-Type '{header}' does not match the manifest's mediaType '{declared}'");
        var mediaType = declared ?? (header is not null && !IsGenericJson(header) ? header : null);
        if (mediaType is not null) return mediaType;

        // Neither says: the spec lets the structure decide.
        if (root.TryGetProperty("manifests", out _)) return MediaTypes.OciIndex;
        if (root.TryGetProperty("config", out _)) return MediaTypes.OciManifest;
        if (root.TryGetProperty("fsLayers", out _)) return MediaTypes.DockerSchema1;
        throw ErrorCode.ManifestInvalid.With("cannot tell the manifest's type: set mediaType or Content-Type");
    }

    private static bool IsGenericJson(string contentType) => contentType is "application/json" or "application/octet-stream";

    private static string? NormalizeContentType(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType)) return null;
        var semicolon = contentType.IndexOf(';');
        return (semicolon >= 0 ? contentType[..semicolon] : contentType).Trim();
    }

    private static string? OptionalString(JsonElement element, string property)
    {
        if (!element.TryGetProperty(property, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.String)
            throw ErrorCode.ManifestInvalid.With($"'{property}' must be a string");
        var text = value.GetString();
        if (text is not null && Names.HasControlCharacters(text))
            throw ErrorCode.ManifestInvalid.With($"'{property}' contains control characters");
        return text;
    }

    private static List<ContentDescriptor> ReadDescriptorArray(JsonElement root, string property, bool required)
    {
        if (!root.TryGetProperty(property, out var array) || array.ValueKind == JsonValueKind.Null)
        {
            if (required) throw ErrorCode.ManifestInvalid.With($"manifest has no '{property}' array");
            return [];
        }
        if (array.ValueKind != JsonValueKind.Array)
            throw ErrorCode.ManifestInvalid.With($"'{property}' must be an array");
        var result = new List<ContentDescriptor>(array.GetArrayLength());
        var index = 0;
        foreach (var item in array.EnumerateArray())
        {
            result.Add(ReadDescriptor(item, $"{property}[{index}]"));
            index++;
        }
        return result;
    }

    private static ContentDescriptor ReadDescriptor(JsonElement element, string where)
    {
        if (element.ValueKind != JsonValueKind.Object)
            throw ErrorCode.ManifestInvalid.With($"{where} must be a descriptor object");
        var mediaType = OptionalString(element, "mediaType")
            ?? throw ErrorCode.ManifestInvalid.With($"{where} has no mediaType");
        var digestText = OptionalString(element, "digest");
        if (!Digest.TryParse(digestText, out var digest))
            throw ErrorCode.ManifestInvalid.With($"{where} has an invalid digest '{digestText}'");
        if (!element.TryGetProperty("size", out var sizeElement) || sizeElement.ValueKind != JsonValueKind.Number
            || !sizeElement.TryGetInt64(out var size) || size < 0)
            throw ErrorCode.ManifestInvalid.With($"{where} has no valid size");
        var artifactType = OptionalString(element, "artifactType");
        List<string>? urls = null;
        if (element.TryGetProperty("urls", out var urlsElement) && urlsElement.ValueKind == JsonValueKind.Array)
            urls = [.. urlsElement.EnumerateArray().Where(u => u.ValueKind == JsonValueKind.String).Select(u => u.GetString()!)];
        Platform? platform = null;
        if (element.TryGetProperty("platform", out var p) && p.ValueKind == JsonValueKind.Object)
            platform = new Platform(OptionalString(p, "os") ?? "", OptionalString(p, "architecture") ?? "", OptionalString(p, "variant"));
        return new ContentDescriptor(mediaType, digest.Value, size, artifactType, urls, platform);
    }

    private static Dictionary<string, string>? ReadAnnotations(JsonElement root)
    {
        if (!root.TryGetProperty("annotations", out var element) || element.ValueKind != JsonValueKind.Object) return null;
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.String) result[property.Name] = property.Value.GetString()!;
        }
        return result;
    }
}
