using System.Text.Json.Nodes;
using Berth.AuditLog.Data;
using Berth.AuditLog.Recording;

namespace Berth.AuditLog.Tests.Elasticsearch;

/// <summary>
/// The Elasticsearch sink end to end: entries recorded in a SQLite audit log, shipped
/// by the module's own shipper, read back from Elasticsearch. Against the in-test fake
/// unless BERTH_TEST_ELASTICSEARCH_URL names a real cluster; the tests that inject
/// faults need the fake and are skipped then.
/// </summary>
public sealed class ElasticsearchSinkTests : ClusterTest
{
    private static readonly DateTime Day1 = new(2026, 11, 28, 23, 59, 30, DateTimeKind.Utc);
    private static readonly DateTime Day2 = new(2026, 11, 29, 0, 0, 30, DateTimeKind.Utc);

    [Fact]
    public async Task Entries_arrive_as_ECS_documents_in_daily_indices_after_the_template_and_policy()
    {
        await using var host = await ElasticsearchShipping.StartAsync(Cluster, Prefix, TimeSpan.FromSeconds(10));
        var push = ElasticsearchShipping.Entry(AuditKinds.PushRepo, "acme", Day1, repository: "acme/web", metadata: """{"tag":"v1","digest":"sha256:abc"}""");
        var failure = ElasticsearchShipping.Entry(AuditKinds.LoginFailure, "", Day2, performer: "mallory", address: "2001:db8::7");
        var pull = ElasticsearchShipping.Entry(AuditKinds.PullRepo, "acme", Day2, repository: "acme/web", address: null);
        await host.RecordAsync([push, failure, pull]);
        await host.WaitForCheckpointAsync(pull.Id, Patience);

        var policy = (await Cluster.PolicyAsync($"{Prefix}-policy"))!;
        Assert.NotNull(policy["policy"]!["phases"]!["hot"]);
        Assert.Equal("30d", policy["policy"]!["phases"]!["delete"]!["min_age"]!.GetValue<string>());
        Assert.NotNull(policy["policy"]!["phases"]!["delete"]!["actions"]!["delete"]);

        var template = (await Cluster.TemplateAsync(Prefix))!;
        Assert.Equal($"{Prefix}-*", Assert.Single(template["index_patterns"]!.AsArray())!.GetValue<string>());
        Assert.Equal($"{Prefix}-policy", LifecycleName(template["template"]!["settings"]!.AsObject()));
        var properties = template["template"]!["mappings"]!["properties"]!;
        Assert.Equal("date", properties["@timestamp"]!["type"]!.GetValue<string>());
        Assert.Equal("long", properties["event"]!["properties"]!["sequence"]!["type"]!.GetValue<string>());
        Assert.Equal("ip", properties["source"]!["properties"]!["ip"]!["type"]!.GetValue<string>());
        Assert.Equal("flattened", properties["berth"]!["properties"]!["metadata"]!["type"]!.GetValue<string>());
        Assert.Equal("text", properties["user_agent"]!["properties"]!["original"]!["fields"]!["text"]!["type"]!.GetValue<string>());

        var documents = await Cluster.DocumentsAsync(Prefix);
        Assert.Equal([push.EntryId.ToString(), failure.EntryId.ToString(), pull.EntryId.ToString()], documents.Select(d => d.Id));
        Assert.Equal([$"{Prefix}-2026.11.28", $"{Prefix}-2026.11.29", $"{Prefix}-2026.11.29"], documents.Select(d => d.Index));

        var shipped = documents[0].Source;
        Assert.Equal(Day1, DateTime.Parse(Text(shipped, "@timestamp"), null, System.Globalization.DateTimeStyles.AdjustToUniversal));
        Assert.Equal(push.EntryId.ToString(), Text(shipped, "event", "id"));
        Assert.Equal("push_repo", Text(shipped, "event", "action"));
        Assert.Equal(push.Id, shipped["event"]!["sequence"]!.GetValue<long>());
        Assert.Equal("success", Text(shipped, "event", "outcome"));
        Assert.Equal("alice", Text(shipped, "user", "name"));
        Assert.Equal("user", Text(shipped, "berth", "performer", "kind"));
        Assert.Equal("192.0.2.10", Text(shipped, "source", "ip"));
        Assert.Equal("docker/27.3.1 go/go1.22.7", Text(shipped, "user_agent", "original"));
        Assert.Equal(push.RequestId, Text(shipped, "http", "request", "id"));
        Assert.Equal("acme", Text(shipped, "berth", "namespace"));
        Assert.Equal("acme/web", Text(shipped, "berth", "repository"));
        Assert.Equal("acme/web", Text(shipped, "container", "image", "name"));
        Assert.Equal("sha256:abc", Text(shipped, "berth", "metadata", "digest"));

        var refused = documents[1].Source;
        Assert.Equal("failure", Text(refused, "event", "outcome"));
        Assert.Equal("authentication", refused["event"]!["category"]!.AsArray().Single()!.GetValue<string>());
        Assert.Null(refused["container"]);
        Assert.Null(documents[2].Source["source"]);

        if (Cluster is FakeElasticsearch fake)
        {
            Assert.Empty(fake.ProtocolErrors);
            Assert.Empty(fake.IndicesCreatedWithoutTemplate);
            var requests = fake.Requests.ToList();
            Assert.True(requests.IndexOf($"PUT /_ilm/policy/{Prefix}-policy") is var p and >= 0 && p < requests.IndexOf($"PUT /_index_template/{Prefix}"));
            Assert.True(requests.IndexOf($"PUT /_index_template/{Prefix}") < requests.IndexOf("POST /_bulk"));
        }
    }

    [SkippableFact]
    public async Task Items_refused_with_429_are_sent_again_and_nothing_is_duplicated()
    {
        var fake = Cluster as FakeElasticsearch;
        Skip.If(fake is null, "injects per-item failures, which needs the fake");
        var refusedOnce = new HashSet<string>();
        fake.ItemFault = document => document.Sequence % 3 == 0 && refusedOnce.Add(document.Id) ? 429 : null;
        await using var host = await ElasticsearchShipping.StartAsync(Cluster, Prefix, TimeSpan.FromSeconds(10));
        var entries = Enumerable.Range(0, 20).Select(i => ElasticsearchShipping.Entry(AuditKinds.PullRepo, "acme", Day2.AddSeconds(i), "acme/web")).ToArray();
        await host.RecordAsync(entries);
        await host.WaitForCheckpointAsync(entries[^1].Id, Patience);

        Assert.NotEmpty(refusedOnce);
        Assert.Equal(entries[^1].Id, await host.CheckpointAsync());
        var documents = await Cluster.DocumentsAsync(Prefix);
        Assert.Equal(entries.Select(e => e.EntryId.ToString()), documents.Select(d => d.Id));
        Assert.True(fake.Requests.Count(r => r == "POST /_bulk") > 1, "the refused items were never sent again");
        Assert.Empty(fake.ProtocolErrors);
    }

    [SkippableFact]
    public async Task An_outage_loses_nothing_duplicates_nothing_and_keeps_each_namespace_in_order()
    {
        var fake = Cluster as FakeElasticsearch;
        Skip.If(fake is null, "refuses and hangs requests, which needs the fake");
        fake.HangFor = TimeSpan.FromSeconds(1);
        await using var host = await ElasticsearchShipping.StartAsync(Cluster, Prefix, TimeSpan.FromMilliseconds(300), batchSize: 25);

        string[] namespaces = ["acme", "globex", "initech"];
        var recorded = new List<AuditEntry>();
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var batch = Enumerable.Range(0, 1 + i % 3)
                    .Select(j => ElasticsearchShipping.Entry(AuditKinds.PushRepo, namespaces[(i + j) % namespaces.Length], Day1.AddSeconds(i)))
                    .ToArray();
                await host.RecordAsync(batch);
                recorded.AddRange(batch);
                await Task.Delay(10);
            }
        });

        await Task.Delay(500);
        fake.Refusing = true;
        await Task.Delay(1200);
        fake.Refusing = false;
        fake.Hanging = true;
        await Task.Delay(1200);
        fake.Hanging = false;
        await Task.Delay(300);
        await stop.CancelAsync();
        await writer;
        await host.WaitForCheckpointAsync(recorded[^1].Id, Patience);

        Assert.True(fake.RefusedRequests > 0 && fake.HungRequests > 0, "the outage never reached the sink");
        var documents = await Cluster.DocumentsAsync(Prefix);
        Assert.Equal(recorded.Select(e => e.EntryId.ToString()).Order(), documents.Select(d => d.Id).Order());
        Assert.Equal(documents.Count, documents.Select(d => d.Id).Distinct().Count());
        foreach (var @namespace in namespaces)
        {
            var firstArrivals = fake.Arrivals.Where(d => d.Namespace == @namespace).DistinctBy(d => d.Id).Select(d => d.Sequence).ToList();
            Assert.Equal(firstArrivals.Order(), firstArrivals);
        }
        Assert.Empty(fake.ProtocolErrors);
    }

    [Fact]
    public async Task A_document_refused_for_good_is_counted_and_does_not_hold_back_later_entries()
    {
        await using var host = await ElasticsearchShipping.StartAsync(Cluster, Prefix, TimeSpan.FromSeconds(10));
        var before = ElasticsearchShipping.Entry(AuditKinds.PushRepo, "acme", Day2, "acme/web");
        var unmappable = ElasticsearchShipping.Entry(AuditKinds.PushRepo, "acme", Day2, "acme/web", address: "not-an-address");
        var after = ElasticsearchShipping.Entry(AuditKinds.CreateTag, "acme", Day2, "acme/web");
        await host.RecordAsync([before, unmappable, after]);
        await host.WaitForCheckpointAsync(after.Id, Patience);

        var later = ElasticsearchShipping.Entry(AuditKinds.DeleteTag, "acme", Day2, "acme/web");
        await host.RecordAsync([later]);
        await host.WaitForCheckpointAsync(later.Id, Patience);

        Assert.Equal(1, host.Rejected);
        var documents = await Cluster.DocumentsAsync(Prefix);
        Assert.Equal([before.EntryId.ToString(), after.EntryId.ToString(), later.EntryId.ToString()], documents.Select(d => d.Id));
    }

    private static string Text(JsonNode node, params string[] path) =>
        path.Aggregate<string, JsonNode?>(node, (n, key) => n?[key])?.GetValue<string>() ?? throw new Xunit.Sdk.XunitException($"no {string.Join('.', path)}");

    /// <summary>index.lifecycle.name as put (dotted) or as Elasticsearch returns it (nested).</summary>
    private static string? LifecycleName(JsonObject settings) =>
        settings["index.lifecycle.name"]?.GetValue<string>() ?? settings["index"]?["lifecycle"]?["name"]?.GetValue<string>();
}
