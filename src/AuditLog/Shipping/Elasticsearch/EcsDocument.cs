using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Berth.AuditLog.Data;
using Berth.AuditLog.Recording;

namespace Berth.AuditLog.Shipping.Elasticsearch;

/// <summary>
/// An audit entry as an Elastic Common Schema document, so Kibana's Discover, SIEM
/// rules and dashboards built on ECS read it without mapping work; what ECS has no
/// field for lives under "berth.".
/// </summary>
public static class EcsDocument
{
    /// <summary>The daily index an entry belongs to, by when it happened (UTC), so ILM ages indices by event time.</summary>
    public static string IndexName(string prefix, AuditEntry entry) =>
        $"{prefix}-{DateTime.SpecifyKind(entry.OccurredAt, DateTimeKind.Utc).ToString("yyyy.MM.dd", CultureInfo.InvariantCulture)}";

    public static JsonObject From(AuditEntry entry)
    {
        var (category, type) = Categorize(entry.Kind);
        var document = new JsonObject
        {
            ["@timestamp"] = DateTime.SpecifyKind(entry.OccurredAt, DateTimeKind.Utc).ToString("O", CultureInfo.InvariantCulture),
            ["event"] = new JsonObject
            {
                ["id"] = entry.EntryId.ToString(),
                ["action"] = entry.Kind,
                ["sequence"] = entry.Id,
                ["kind"] = "event",
                ["category"] = new JsonArray(category),
                ["type"] = new JsonArray(type),
                ["outcome"] = Outcome(entry.Kind),
            },
            ["user"] = new JsonObject { ["name"] = entry.Performer },
            ["berth"] = new JsonObject
            {
                ["performer"] = new JsonObject { ["kind"] = entry.PerformerKind },
                ["namespace"] = entry.Namespace,
                ["repository"] = entry.Repository,
                ["source_event"] = entry.SourceEvent,
                ["metadata"] = Metadata(entry.Metadata),
            },
        };
        if (entry.Address is not null) document["source"] = new JsonObject { ["ip"] = entry.Address };
        if (entry.UserAgent is not null) document["user_agent"] = new JsonObject { ["original"] = entry.UserAgent };
        if (entry.RequestId is not null) document["http"] = new JsonObject { ["request"] = new JsonObject { ["id"] = entry.RequestId } };
        if (entry.Repository is not null) document["container"] = new JsonObject { ["image"] = new JsonObject { ["name"] = entry.Repository } };
        return document;
    }

    /// <summary>The entry a document was made from (<see cref="From"/> read backwards), for searching in Elasticsearch.</summary>
    public static AuditEntry ToEntry(JsonObject document)
    {
        var berth = document["berth"];
        var metadata = berth?["metadata"];
        return new AuditEntry
        {
            Id = document["event"]!["sequence"]!.GetValue<long>(),
            EntryId = Guid.Parse(document["event"]!["id"]!.GetValue<string>()),
            Kind = document["event"]!["action"]!.GetValue<string>(),
            Namespace = berth?["namespace"]?.GetValue<string>() ?? "",
            Repository = berth?["repository"]?.GetValue<string>(),
            Performer = document["user"]?["name"]?.GetValue<string>() ?? "",
            PerformerKind = berth?["performer"]?["kind"]?.GetValue<string>() ?? "",
            Address = document["source"]?["ip"]?.GetValue<string>(),
            UserAgent = document["user_agent"]?["original"]?.GetValue<string>(),
            RequestId = document["http"]?["request"]?["id"]?.GetValue<string>(),
            OccurredAt = DateTimeOffset.Parse(document["@timestamp"]!.GetValue<string>(), CultureInfo.InvariantCulture).UtcDateTime,
            Metadata = metadata is JsonObject ? metadata.ToJsonString() : "{}",
            SourceEvent = berth?["source_event"]?.GetValue<string>() ?? "",
        };
    }

    public static string Outcome(string kind) => kind is AuditKinds.LoginFailure or AuditKinds.UploadFailed ? "failure" : "success";

    /// <summary>ECS event.category and event.type (from their allowed values) for an action kind.</summary>
    public static (string Category, string Type) Categorize(string kind)
    {
        if (kind is AuditKinds.LoginSuccess or AuditKinds.LoginFailure) return ("authentication", "start");
        if (kind == AuditKinds.RotateLogs) return ("configuration", "change");
        var category = kind.StartsWith("user_", StringComparison.Ordinal) || kind.StartsWith("org_", StringComparison.Ordinal)
            || kind.Contains("robot", StringComparison.Ordinal) || kind.Contains("token", StringComparison.Ordinal)
            || kind.Contains("permission", StringComparison.Ordinal)
            ? "iam"
            : "api";
        return (category, Verb(kind));
    }

    private static string Verb(string kind)
    {
        if (kind == AuditKinds.PullRepo) return "access";
        if (kind.Contains("delete", StringComparison.Ordinal) || kind.Contains("revoke", StringComparison.Ordinal)) return "deletion";
        if (kind.Contains("create", StringComparison.Ordinal) || kind.StartsWith("push", StringComparison.Ordinal)
            || kind.StartsWith("upload", StringComparison.Ordinal) || kind.StartsWith("register", StringComparison.Ordinal)) return "creation";
        return "change";
    }

    /// <summary>The entry's metadata object; anything else (never written by the recorder) is kept as text rather than dropped.</summary>
    private static JsonNode Metadata(string metadata)
    {
        try
        {
            if (JsonNode.Parse(metadata) is JsonObject parsed) return parsed;
        }
        catch (JsonException)
        {
        }
        return new JsonObject { ["raw"] = metadata };
    }
}
