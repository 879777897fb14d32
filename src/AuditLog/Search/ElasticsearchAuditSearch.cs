using System.Globalization;
using System.Text.Json.Nodes;
using Berth.AuditLog.Data;
using Berth.AuditLog.Shipping.Elasticsearch;
using Elastic.Clients.Elasticsearch;
using Elastic.Transport;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace Berth.AuditLog.Search;

/// <summary>
/// Searches the documents the Elasticsearch sink shipped (ECS fields, see
/// <see cref="EcsDocument"/>), so searches and aggregations over a large log run on
/// the cluster instead of the database that records. An entry is found once it is
/// shipped and the index refreshed (about a second behind the database while the
/// sink keeps up); times compare at the millisecond, as Elasticsearch keeps them.
/// </summary>
public sealed class ElasticsearchAuditSearch(IOptions<AuditLogOptions> options) : IAuditSearch
{
    /// <summary>More than the kinds there are, so no kind is folded into "other".</summary>
    private const int MaxKinds = 1000;

    private readonly ElasticsearchClient _client = ElasticsearchConnection.CreateClient(options.Value.Elasticsearch);
    private readonly string _indices = $"{options.Value.Elasticsearch.IndexPrefix}-*";

    public Task<IReadOnlyList<AuditEntry>> NewestAsync(AuditFilter filter, long? before, int count, CancellationToken cancellationToken) =>
        HitsAsync(filter, before is { } cursor ? new JsonObject { ["lt"] = cursor } : null, "desc", count, cancellationToken);

    public Task<IReadOnlyList<AuditEntry>> OldestAsync(AuditFilter filter, long after, int count, CancellationToken cancellationToken) =>
        HitsAsync(filter, new JsonObject { ["gt"] = after }, "asc", count, cancellationToken);

    public async Task<IReadOnlyList<KindCount>> CountByKindPerDayAsync(AuditFilter filter, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["size"] = 0,
            ["track_total_hits"] = false,
            ["query"] = Query(filter, null),
            ["aggs"] = new JsonObject
            {
                ["days"] = new JsonObject
                {
                    ["date_histogram"] = new JsonObject { ["field"] = "@timestamp", ["calendar_interval"] = "1d", ["time_zone"] = "UTC", ["min_doc_count"] = 1 },
                    ["aggs"] = new JsonObject { ["kinds"] = new JsonObject { ["terms"] = new JsonObject { ["field"] = "event.action", ["size"] = MaxKinds } } },
                },
            },
        };
        var answer = await SearchAsync(body, cancellationToken);
        var counts = new List<KindCount>();
        foreach (var day in answer["aggregations"]?["days"]?["buckets"]?.AsArray() ?? [])
        {
            var date = DateOnly.FromDateTime(DateTimeOffset.FromUnixTimeMilliseconds(day!["key"]!.GetValue<long>()).UtcDateTime);
            foreach (var kind in day["kinds"]?["buckets"]?.AsArray() ?? [])
                counts.Add(new KindCount(date, kind!["key"]!.GetValue<string>(), kind["doc_count"]!.GetValue<long>()));
        }
        return [.. counts.OrderBy(c => c.Day).ThenBy(c => c.Kind, StringComparer.Ordinal)];
    }

    private async Task<IReadOnlyList<AuditEntry>> HitsAsync(AuditFilter filter, JsonObject? sequenceRange, string order, int count, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["size"] = count,
            ["track_total_hits"] = false,
            ["query"] = Query(filter, sequenceRange),
            ["sort"] = new JsonArray(new JsonObject { ["event.sequence"] = order }),
        };
        var answer = await SearchAsync(body, cancellationToken);
        return [.. (answer["hits"]?["hits"]?.AsArray() ?? []).Select(hit => EcsDocument.ToEntry(hit!["_source"]!.AsObject()))];
    }

    /// <summary>The filter as ECS field terms: exact keyword matches, a half-open time range, as the database search.</summary>
    private static JsonObject Query(AuditFilter filter, JsonObject? sequenceRange)
    {
        var clauses = new JsonArray();
        void Term(string field, string? value)
        {
            if (!string.IsNullOrEmpty(value)) clauses.Add(new JsonObject { ["term"] = new JsonObject { [field] = value } });
        }
        Term("berth.namespace", filter.Namespace);
        Term("berth.repository", filter.Repository);
        Term("user.name", filter.Performer);
        if (!string.IsNullOrEmpty(filter.PerformedBy))
        {
            Term("user.name", filter.PerformedBy);
            Term("berth.performer.kind", filter.PerformedByKind);
        }
        if (filter.Kinds.Count > 0)
            clauses.Add(new JsonObject { ["terms"] = new JsonObject { ["event.action"] = new JsonArray([.. filter.Kinds.Select(k => JsonValue.Create(k))]) } });
        if (filter.Since is not null || filter.Until is not null)
        {
            var range = new JsonObject();
            if (filter.Since is { } since) range["gte"] = Time(since);
            if (filter.Until is { } until) range["lt"] = Time(until);
            clauses.Add(new JsonObject { ["range"] = new JsonObject { ["@timestamp"] = range } });
        }
        if (sequenceRange is not null) clauses.Add(new JsonObject { ["range"] = new JsonObject { ["event.sequence"] = sequenceRange } });
        return new JsonObject { ["bool"] = new JsonObject { ["filter"] = clauses } };
    }

    private static string Time(DateTime time) => DateTime.SpecifyKind(time, DateTimeKind.Utc).ToString("O", CultureInfo.InvariantCulture);

    private async Task<JsonObject> SearchAsync(JsonObject body, CancellationToken cancellationToken)
    {
        // No index yet (nothing shipped) is an empty answer, not an error.
        var response = await _client.Transport.RequestAsync<StringResponse>(Elastic.Transport.HttpMethod.POST,
            $"/{_indices}/_search?ignore_unavailable=true&allow_no_indices=true", PostData.String(body.ToJsonString()), cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        if (!response.ApiCallDetails.HasSuccessfulStatusCode || JsonNode.Parse(response.Body) is not JsonObject answer)
            throw new RpcException(new Status(StatusCode.Unavailable,
                $"the search backend (Elasticsearch) failed: {ElasticsearchConnection.Describe(response.ApiCallDetails)} {ElasticsearchConnection.Truncate(response.Body)}".TrimEnd()));
        return answer;
    }
}
