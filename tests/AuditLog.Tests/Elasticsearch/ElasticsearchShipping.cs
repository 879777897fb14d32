using System.Globalization;
using Berth.AuditLog.Data;

namespace Berth.AuditLog.Tests.Elasticsearch;

/// <summary>The audit log shipping to one Elasticsearch, and entries as the recorder would write them.</summary>
public static class ElasticsearchShipping
{
    public static Task<ShippingTestHost> StartAsync(ISearchCluster cluster, string prefix, TimeSpan requestTimeout, int batchSize = 500, string searchBackend = "database") =>
        ShippingTestHost.StartAsync("elasticsearch", new Dictionary<string, string?>
        {
            ["AuditLog:ShippingBatchSize"] = batchSize.ToString(CultureInfo.InvariantCulture),
            ["AuditLog:ShippingMaxBackoff"] = "00:00:00.400",
            ["AuditLog:Elasticsearch:Url"] = cluster.Url,
            ["AuditLog:Elasticsearch:ApiKey"] = cluster.ApiKey,
            ["AuditLog:Elasticsearch:IndexPrefix"] = prefix,
            ["AuditLog:Elasticsearch:DeleteAfterDays"] = "30",
            ["AuditLog:Elasticsearch:RequestTimeout"] = requestTimeout.ToString("c", CultureInfo.InvariantCulture),
            ["AuditLog:SearchBackend"] = searchBackend,
        });

    public static AuditEntry Entry(string kind, string @namespace, DateTime occurredAt, string? repository = null, string performer = "alice",
        string? address = "192.0.2.10", string metadata = "{}") => new()
        {
            EntryId = Guid.NewGuid(),
            Kind = kind,
            Namespace = @namespace,
            Repository = repository,
            Performer = performer,
            PerformerKind = "user",
            Address = address,
            UserAgent = "docker/27.3.1 go/go1.22.7",
            RequestId = Guid.NewGuid().ToString("N"),
            OccurredAt = occurredAt,
            Metadata = metadata,
            SourceEvent = "test.event",
        };
}
