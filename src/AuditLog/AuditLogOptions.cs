using System.ComponentModel.DataAnnotations;
using Berth.Data;

namespace Berth.AuditLog;

/// <summary>Settings of the audit log module, bound from the "AuditLog" configuration section.</summary>
public sealed class AuditLogOptions : IModuleDatabaseOptions
{
    public const string SectionName = "AuditLog";

    /// <summary>Where the embedded default keeps the log database and its archives.</summary>
    [Required]
    public string DataDirectory { get; set; } = "data";

    [RegularExpression("^(sqlite|postgres)$", ErrorMessage = "AuditLog:DatabaseProvider must be 'sqlite' or 'postgres'")]
    public string DatabaseProvider { get; set; } = "sqlite";

    /// <summary>Connection string; for sqlite it defaults to a file in the data directory.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// Where the Auth module runs when it is not in this process: it answers who is
    /// calling the search API and which namespaces they administer.
    /// </summary>
    public string? AuthUrl { get; set; }

    /// <summary>Entries older than this many days are archived to a file and removed; 0 keeps everything.</summary>
    [Range(0, 36500)]
    public int RetentionDays { get; set; } = 365;

    /// <summary>How often retention runs.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan RetentionInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Where rotated entries are archived (gzip NDJSON); defaults to "audit-archive" in the data directory.</summary>
    public string? ArchiveDirectory { get; set; }

    /// <summary>Namespaces whose pulls are not recorded (pulls are the bulk of a busy log).</summary>
    public string[] PullLoggingDisabledNamespaces { get; set; } = [];

    /// <summary>
    /// Entries a sink is sent at once. Each batch costs a read, a request and a checkpoint
    /// write whatever its size, and while the sink answers the process idles: with 500,
    /// recording and shipping pulls to a collector took about an eighth more CPU an entry
    /// than with 2,000, and shipping fell behind recording. A collector that refuses a batch
    /// as too large (HEC's 413) gets halves of it from then on.
    /// </summary>
    [Range(1, 10_000)]
    public int ShippingBatchSize { get; set; } = 2000;

    /// <summary>The longest a sink that keeps failing waits before the next attempt (the wait doubles up to this).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan ShippingMaxBackoff { get; set; } = TimeSpan.FromMinutes(1);

    public ElasticsearchSinkOptions Elasticsearch { get; set; } = new();

    /// <summary>
    /// What the search API reads: "database" (the log's own, always current) or
    /// "elasticsearch" (the shipped documents; needs the Elasticsearch sink).
    /// </summary>
    public string SearchBackend { get; set; } = "database";

    public SplunkSinkOptions Splunk { get; set; } = new();

    public string ResolveConnectionString() =>
        ConnectionString ?? (DatabaseProvider == "sqlite"
            ? $"Data Source={Path.Combine(DataDirectory, "auditlog.db")}"
            : throw new InvalidOperationException("AuditLog:ConnectionString is required for the postgres provider"));

    public string ResolveArchiveDirectory() => ArchiveDirectory ?? Path.Combine(DataDirectory, "audit-archive");
}

/// <summary>The Elasticsearch sink (AuditLog:Elasticsearch); on when <see cref="Url"/> is set.</summary>
public sealed class ElasticsearchSinkOptions
{
    public string? Url { get; set; }

    public string? Username { get; set; }

    public string? Password { get; set; }

    public string? ApiKey { get; set; }

    /// <summary>Daily indices are named "{prefix}-yyyy.MM.dd"; the index template and ILM policy carry the prefix too.</summary>
    [RegularExpression("^[a-z0-9][a-z0-9_-]{0,63}$", ErrorMessage = "AuditLog:Elasticsearch:IndexPrefix must be lower-case letters, digits, '-' or '_'")]
    public string IndexPrefix { get; set; } = "berth-audit";

    /// <summary>The ILM policy deletes an index this many days after it rolled over; 0: never.</summary>
    [Range(0, 36500)]
    public int DeleteAfterDays { get; set; } = 365;

    /// <summary>How long one request may take; a bulk request that takes longer counts as failed and is sent again.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public bool Enabled => !string.IsNullOrEmpty(Url);
}

/// <summary>The Splunk HTTP Event Collector sink (AuditLog:Splunk); on when <see cref="Url"/> is set.</summary>
public sealed class SplunkSinkOptions
{
    /// <summary>The HEC base address, e.g. https://splunk:8088.</summary>
    public string? Url { get; set; }

    public string? Token { get; set; }

    public string? Index { get; set; }

    public string SourceType { get; set; } = "berth:audit";

    public string Source { get; set; } = "berth";

    /// <summary>The host field of each event; defaults to this machine's name.</summary>
    public string? Host { get; set; }

    /// <summary>Wait for indexer acknowledgement (the HEC token must have it enabled) before an entry counts as delivered.</summary>
    public bool UseAcks { get; set; }

    /// <summary>How long one request to HEC may take before the batch counts as not sent (and is retried).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>With <see cref="UseAcks"/>: how long to wait for the indexer's acknowledgement before sending the batch again.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan AckTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public bool Enabled => !string.IsNullOrEmpty(Url);
}
