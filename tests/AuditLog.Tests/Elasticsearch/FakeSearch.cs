using System.Globalization;
using System.Text.Json.Nodes;

namespace Berth.AuditLog.Tests.Elasticsearch;

/// <summary>
/// The part of Elasticsearch's <c>_search</c> the audit search backend uses, over the
/// fake's documents: a bool filter of term, terms and range clauses on keyword, long
/// and date fields (dates compared at the millisecond, as a date field keeps them),
/// sort on one field, size, and a daily date_histogram with a terms sub-aggregation.
/// Anything else in a request is a protocol error, so the backend cannot come to rely
/// on something this fake would only pretend to do.
/// </summary>
internal static class FakeSearch
{
    public static JsonObject Answer(JsonObject request, IEnumerable<(string Index, string Id, JsonObject Source)> documents, List<string> errors)
    {
        foreach (var key in request.Select(p => p.Key))
            if (key is not ("size" or "sort" or "query" or "aggs" or "track_total_hits")) errors.Add($"_search field [{key}] is not supported here");
        var clauses = Clauses(request["query"], errors);
        var matching = documents.Where(d => clauses.All(c => c(d.Source))).ToList();

        if (request["sort"] is JsonArray { Count: 1 } sort && sort[0] is JsonObject { Count: 1 } order)
        {
            var (field, direction) = (order.First().Key, order.First().Value!.GetValue<string>());
            matching = direction == "desc"
                ? [.. matching.OrderByDescending(d => Sortable(Field(d.Source, field)))]
                : [.. matching.OrderBy(d => Sortable(Field(d.Source, field)))];
        }
        else if (request["sort"] is not null) errors.Add($"sort must be one field: {request["sort"]!.ToJsonString()}");

        var size = request["size"]?.GetValue<int>() ?? 10;
        var hits = new JsonArray([.. matching.Take(size).Select(d => (JsonNode)new JsonObject
        {
            ["_index"] = d.Index,
            ["_id"] = d.Id,
            ["_score"] = null,
            ["_source"] = d.Source.DeepClone(),
        })]);
        var answer = new JsonObject
        {
            ["took"] = 1,
            ["timed_out"] = false,
            ["_shards"] = new JsonObject { ["total"] = 1, ["successful"] = 1, ["skipped"] = 0, ["failed"] = 0 },
            ["hits"] = new JsonObject { ["max_score"] = null, ["hits"] = hits },
        };
        if (request["aggs"] is JsonObject aggs) answer["aggregations"] = Aggregations(aggs, matching.Select(d => d.Source).ToList(), errors);
        return answer;
    }

    private static List<Func<JsonObject, bool>> Clauses(JsonNode? query, List<string> errors)
    {
        if (query is null) return [];
        if (query["bool"]?["filter"] is not JsonArray filter || query.AsObject().Count != 1 || query["bool"]!.AsObject().Count != 1)
        {
            errors.Add($"query must be a bool filter: {query.ToJsonString()}");
            return [_ => false];
        }
        return [.. filter.Select(clause => Clause(clause!.AsObject(), errors))];
    }

    private static Func<JsonObject, bool> Clause(JsonObject clause, List<string> errors)
    {
        var (kind, body) = (clause.First().Key, clause.First().Value!.AsObject());
        var (field, value) = (body.First().Key, body.First().Value!);
        switch (kind)
        {
            case "term":
                var wanted = value.GetValue<string>();
                return d => Field(d, field) is JsonValue v && v.ToString() == wanted;
            case "terms":
                var any = value.AsArray().Select(v => v!.GetValue<string>()).ToHashSet();
                return d => Field(d, field) is JsonValue v && any.Contains(v.ToString());
            case "range":
                var bounds = value.AsObject().Select(b => (b.Key, Bound: Comparable(field, b.Value!))).ToList();
                return d => Field(d, field) is JsonValue v && bounds.All(b =>
                {
                    var c = Comparable(field, v).CompareTo(b.Bound);
                    return b.Key switch { "gt" => c > 0, "gte" => c >= 0, "lt" => c < 0, "lte" => c <= 0, _ => false };
                });
            default:
                errors.Add($"query clause [{kind}] is not supported here");
                return _ => false;
        }
    }

    private static JsonObject Aggregations(JsonObject aggs, List<JsonObject> documents, List<string> errors)
    {
        var result = new JsonObject();
        foreach (var (name, definition) in aggs)
        {
            if (definition?["date_histogram"] is JsonObject histogram)
            {
                if (histogram["calendar_interval"]?.GetValue<string>() is not ("1d" or "day") || histogram["time_zone"]?.GetValue<string>() is not (null or "UTC" or "Z"))
                    errors.Add($"date_histogram must be daily in UTC: {histogram.ToJsonString()}");
                var field = histogram["field"]!.GetValue<string>();
                var buckets = new JsonArray();
                foreach (var day in documents.GroupBy(d => DateTimeOffset.Parse(Field(d, field)!.GetValue<string>(), CultureInfo.InvariantCulture).UtcDateTime.Date).OrderBy(g => g.Key))
                {
                    var bucket = new JsonObject
                    {
                        ["key_as_string"] = day.Key.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
                        ["key"] = new DateTimeOffset(day.Key, TimeSpan.Zero).ToUnixTimeMilliseconds(),
                        ["doc_count"] = day.Count(),
                    };
                    if (definition["aggs"] is JsonObject sub)
                        foreach (var (subName, value) in Aggregations(sub, [.. day], errors)) bucket[subName] = value?.DeepClone();
                    buckets.Add(bucket);
                }
                result[name] = new JsonObject { ["buckets"] = buckets };
            }
            else if (definition?["terms"] is JsonObject terms)
            {
                var field = terms["field"]!.GetValue<string>();
                var size = terms["size"]?.GetValue<int>() ?? 10;
                var groups = documents.GroupBy(d => Field(d, field)?.ToString()).Where(g => g.Key is not null)
                    .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).ToList();
                result[name] = new JsonObject
                {
                    ["doc_count_error_upper_bound"] = 0,
                    ["sum_other_doc_count"] = groups.Skip(size).Sum(g => g.Count()),
                    ["buckets"] = new JsonArray([.. groups.Take(size).Select(g => (JsonNode)new JsonObject { ["key"] = g.Key, ["doc_count"] = g.Count() })]),
                };
            }
            else errors.Add($"aggregation [{name}] is not supported here: {definition?.ToJsonString()}");
        }
        return result;
    }

    /// <summary>A dotted field of a document's source ("berth.performer.kind").</summary>
    private static JsonNode? Field(JsonObject source, string path)
    {
        JsonNode? node = source;
        foreach (var part in path.Split('.'))
            node = node is JsonObject o && o.TryGetPropertyValue(part, out var next) ? next : null;
        return node;
    }

    private static IComparable Sortable(JsonNode? value) => value is JsonValue v && v.TryGetValue<long>(out var n) ? n : long.MinValue;

    /// <summary>Dates at the millisecond (what a date field keeps), numbers as numbers, the rest as text.</summary>
    private static IComparable Comparable(string field, JsonNode value)
    {
        if (field == "@timestamp")
        {
            var time = DateTimeOffset.Parse(value.GetValue<string>(), CultureInfo.InvariantCulture).ToUniversalTime();
            return time.ToUnixTimeMilliseconds();
        }
        if (value is JsonValue v && v.TryGetValue<long>(out var number)) return number;
        return value.ToString();
    }
}
