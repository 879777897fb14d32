using System.Text.Json.Nodes;
using Berth.AuditLog.Shipping.Elasticsearch;

namespace Berth.AuditLog.Tests.Elasticsearch;

/// <summary>
/// docs/kibana/berth-audit.ndjson imports as one piece and only uses fields the
/// sink's index template maps as aggregatable, so its charts work on shipped data.
/// </summary>
public sealed class KibanaSavedObjectsTests
{
    private static readonly string[] Aggregatable = ["keyword", "ip", "date", "long"];

    [Fact]
    public void Saved_objects_reference_each_other_and_only_mapped_fields()
    {
        var objects = File.ReadAllLines(SavedObjectsFile()).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        var ids = objects.Select(o => (Type: o["type"]!.GetValue<string>(), Id: o["id"]!.GetValue<string>())).ToHashSet();
        Assert.Equal(["dashboard", "index-pattern", "search", "visualization"], ids.Select(i => i.Type).Distinct().Order());

        var dataView = objects.Single(o => o["type"]!.GetValue<string>() == "index-pattern")["attributes"]!;
        Assert.Equal($"{new ElasticsearchSinkOptions().IndexPrefix}-*", dataView["title"]!.GetValue<string>());
        Assert.Equal("@timestamp", dataView["timeFieldName"]!.GetValue<string>());

        foreach (var reference in objects.SelectMany(o => o["references"]!.AsArray()))
            Assert.Contains((reference!["type"]!.GetValue<string>(), reference["id"]!.GetValue<string>()), ids);

        var mappings = IndexSetup.Template("berth-audit")["template"]!["mappings"]!["properties"]!;
        var fields = objects
            .Where(o => o["type"]!.GetValue<string>() == "visualization")
            .SelectMany(o => JsonNode.Parse(o["attributes"]!["visState"]!.GetValue<string>())!["aggs"]!.AsArray())
            .Select(agg => agg!["params"]?["field"]?.GetValue<string>())
            .OfType<string>()
            .Concat(objects.Single(o => o["type"]!.GetValue<string>() == "search")["attributes"]!["columns"]!.AsArray().Select(c => c!.GetValue<string>()));
        foreach (var field in fields) Assert.Contains(MappedType(mappings, field), Aggregatable);

        var panels = JsonNode.Parse(objects.Single(o => o["type"]!.GetValue<string>() == "dashboard")["attributes"]!["panelsJSON"]!.GetValue<string>())!.AsArray();
        Assert.Equal(4, panels.Count);
        Assert.Contains(objects, o => o["attributes"]!["kibanaSavedObjectMeta"]?["searchSourceJSON"]?.GetValue<string>().Contains("login_failure", StringComparison.Ordinal) == true);
    }

    private static string? MappedType(JsonNode properties, string field)
    {
        var parts = field.Split('.');
        JsonNode? node = properties[parts[0]];
        foreach (var part in parts.Skip(1)) node = node?["properties"]?[part];
        return node?["type"]?.GetValue<string>();
    }

    private static string SavedObjectsFile()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "docs", "kibana", "berth-audit.ndjson");
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException("docs/kibana/berth-audit.ndjson not found above the test's directory");
    }
}
