namespace Berth.Oci;

/// <summary>The error codes of the OCI distribution spec, with the HTTP status each is sent with.</summary>
public sealed record ErrorCode(string Code, int Status)
{
    public static readonly ErrorCode BlobUnknown = new("BLOB_UNKNOWN", 404);
    public static readonly ErrorCode BlobUploadInvalid = new("BLOB_UPLOAD_INVALID", 400);
    public static readonly ErrorCode BlobUploadUnknown = new("BLOB_UPLOAD_UNKNOWN", 404);
    public static readonly ErrorCode DigestInvalid = new("DIGEST_INVALID", 400);
    public static readonly ErrorCode ManifestBlobUnknown = new("MANIFEST_BLOB_UNKNOWN", 400);
    public static readonly ErrorCode ManifestInvalid = new("MANIFEST_INVALID", 400);
    public static readonly ErrorCode ManifestUnknown = new("MANIFEST_UNKNOWN", 404);
    public static readonly ErrorCode NameInvalid = new("NAME_INVALID", 400);
    public static readonly ErrorCode NameUnknown = new("NAME_UNKNOWN", 404);
    public static readonly ErrorCode SizeInvalid = new("SIZE_INVALID", 400);
    public static readonly ErrorCode Unauthorized = new("UNAUTHORIZED", 401);
    public static readonly ErrorCode Denied = new("DENIED", 403);
    public static readonly ErrorCode Unsupported = new("UNSUPPORTED", 405);
    public static readonly ErrorCode TooManyRequests = new("TOOMANYREQUESTS", 429);

    /// <summary>Distribution's code for a dependency that cannot answer right now.</summary>
    public static readonly ErrorCode Unavailable = new("UNAVAILABLE", 503);

    /// <summary>Distribution's code for a bad pagination count; clients know it.</summary>
    public static readonly ErrorCode PaginationNumberInvalid = new("PAGINATION_NUMBER_INVALID", 400);

    public RegistryException With(string message, object? detail = null, int? status = null) =>
        new(this, message, detail, status ?? Status);
}

/// <summary>Thrown anywhere below the /v2 handlers; turned into OCI error JSON at the edge.</summary>
public sealed class RegistryException(ErrorCode code, string message, object? detail, int status) : Exception(message)
{
    public ErrorCode Code { get; } = code;
    public object? Detail { get; } = detail;
    public int Status { get; } = status;

    /// <summary>Headers that belong to this error, such as Range on a 416.</summary>
    public Dictionary<string, string> Headers { get; } = [];
}
