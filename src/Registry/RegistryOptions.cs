using System.ComponentModel.DataAnnotations;
using Berth.Data;

namespace Berth.Registry;

/// <summary>Settings of the registry module, bound from the "Registry" configuration section.</summary>
public sealed class RegistryOptions : IModuleDatabaseOptions
{
    public const string SectionName = "Registry";

    /// <summary>Where the embedded default keeps its database and blobs.</summary>
    [Required]
    public string DataDirectory { get; set; } = "data";

    /// <summary>"sqlite" (embedded default) or "postgres".</summary>
    [RegularExpression("^(sqlite|postgres)$", ErrorMessage = "Registry:Database:Provider must be 'sqlite' or 'postgres'")]
    public string DatabaseProvider { get; set; } = "sqlite";

    /// <summary>Connection string; for sqlite it defaults to a file in the data directory.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Root of the filesystem blob store; defaults to "storage" in the data directory.</summary>
    public string? StorageDirectory { get; set; }

    /// <summary>Manifests above this size are refused with 413 (the OCI spec's recommended 4 MiB).</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxManifestBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Memory for cached manifests and blob lookups.</summary>
    [Range(1024 * 1024, long.MaxValue)]
    public long CacheSizeBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>Most entries one page of /v2/_catalog or tags/list returns.</summary>
    [Range(1, 100_000)]
    public int MaxPageSize { get; set; } = 10_000;

    /// <summary>
    /// Answer blob GETs from a gateway that shares the blob storage with the file's
    /// path instead of its bytes (the gateway sends the file). Only for a gateway on
    /// the same host; see the gateway's BlobHandoff.
    /// </summary>
    public bool BlobHandoff { get; set; }

    /// <summary>
    /// "token" (default): every /v2 and API request needs a token from the Auth
    /// module (the Docker token flow). "none": an open registry, for tests and
    /// trusted networks only.
    /// </summary>
    [RegularExpression("^(token|none)$", ErrorMessage = "Registry:Authentication must be 'token' or 'none'")]
    public string Authentication { get; set; } = "token";

    public bool RequiresTokens => Authentication == "token";

    /// <summary>
    /// Redis (StackExchange.Redis configuration, e.g. "127.0.0.1:6379") for several
    /// registry instances sharing one database: they keep their caches coherent
    /// through it. Unset: one instance, in-memory cache only.
    /// </summary>
    public string? Redis { get; set; }

    /// <summary>
    /// Where the Auth module runs when it is not in this process (e.g.
    /// "http://auth:8080"): its AccessService answers the catalog filter and the
    /// management API's checks, and its JWKS (unless Tokens:JwksUrl says otherwise)
    /// verifies tokens.
    /// </summary>
    public string? AuthUrl { get; set; }

    /// <summary>
    /// Publish a ManifestPulled event for every manifest GET (batched into the
    /// outbox off the request path). Off: pulls leave no event and no audit entry.
    /// </summary>
    public bool PullEvents { get; set; } = true;

    /// <summary>
    /// How long a freshly uploaded, mounted or checked blob (and a freshly pushed
    /// manifest) stays safe from garbage collection although nothing references it
    /// yet: the time a client has between uploading layers and pushing the manifest
    /// that names them. A HEAD or GET of a blob renews its link once a quarter of
    /// this has passed, so a client that checked a layer has at least three quarters
    /// of it left to reference the layer.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "30.00:00:00")]
    public TimeSpan GracePeriod { get; set; } = TimeSpan.FromHours(1);

    public string ResolveStorageDirectory() => StorageDirectory ?? Path.Combine(DataDirectory, "storage");

    public string ResolveConnectionString() =>
        ConnectionString ?? (DatabaseProvider == "sqlite"
            ? $"Data Source={Path.Combine(DataDirectory, "registry.db")}"
            : throw new InvalidOperationException("Registry:ConnectionString is required for the postgres provider"));
}
