using System.Text.Json.Nodes;

namespace Berth.AuditLog.Shipping.Elasticsearch;

/// <summary>
/// What the sink installs before shipping: an ILM policy that deletes old daily
/// indices, and an index template mapping the ECS fields <see cref="EcsDocument"/>
/// writes, so the first entry of a day creates a correctly mapped index.
/// </summary>
public static class IndexSetup
{
    public static string PolicyName(string prefix) => $"{prefix}-policy";

    public static JsonObject Policy(int deleteAfterDays)
    {
        var phases = new JsonObject { ["hot"] = new JsonObject { ["actions"] = new JsonObject() } };
        if (deleteAfterDays > 0)
            phases["delete"] = new JsonObject
            {
                ["min_age"] = $"{deleteAfterDays}d",
                ["actions"] = new JsonObject { ["delete"] = new JsonObject() },
            };
        return new JsonObject { ["policy"] = new JsonObject { ["phases"] = phases } };
    }

    public static JsonObject Template(string prefix) => new()
    {
        ["index_patterns"] = new JsonArray($"{prefix}-*"),
        // Above the built-in templates (priority 100 and below) so ours wins for the pattern.
        ["priority"] = 200,
        ["_meta"] = new JsonObject { ["description"] = "Berth audit log (Elastic Common Schema)" },
        ["template"] = new JsonObject
        {
            ["settings"] = new JsonObject { ["index.lifecycle.name"] = PolicyName(prefix) },
            ["mappings"] = new JsonObject
            {
                ["properties"] = new JsonObject
                {
                    ["@timestamp"] = Field("date"),
                    ["event"] = Object(new JsonObject
                    {
                        ["id"] = Keyword(),
                        ["action"] = Keyword(),
                        ["sequence"] = Field("long"),
                        ["kind"] = Keyword(),
                        ["category"] = Keyword(),
                        ["type"] = Keyword(),
                        ["outcome"] = Keyword(),
                    }),
                    ["user"] = Object(new JsonObject { ["name"] = Keyword() }),
                    ["source"] = Object(new JsonObject { ["ip"] = Field("ip") }),
                    ["user_agent"] = Object(new JsonObject
                    {
                        ["original"] = new JsonObject
                        {
                            ["type"] = "keyword",
                            ["ignore_above"] = 1024,
                            ["fields"] = new JsonObject { ["text"] = Field("text") },
                        },
                    }),
                    ["http"] = Object(new JsonObject { ["request"] = Object(new JsonObject { ["id"] = Keyword() }) }),
                    ["container"] = Object(new JsonObject { ["image"] = Object(new JsonObject { ["name"] = Keyword() }) }),
                    ["berth"] = Object(new JsonObject
                    {
                        ["performer"] = Object(new JsonObject { ["kind"] = Keyword() }),
                        ["namespace"] = Keyword(),
                        ["repository"] = Keyword(),
                        ["source_event"] = Keyword(),
                        // Event fields differ per kind: flattened indexes them all without a mapping per field.
                        ["metadata"] = Field("flattened"),
                    }),
                },
            },
        },
    };

    private static JsonObject Field(string type) => new() { ["type"] = type };

    private static JsonObject Keyword() => new() { ["type"] = "keyword", ["ignore_above"] = 1024 };

    private static JsonObject Object(JsonObject properties) => new() { ["properties"] = properties };
}
