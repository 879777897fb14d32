using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Berth.AuditLog.Data;
using Berth.AuditLog.Recording;
using Berth.AuditLog.Search;
using Berth.Contracts;
using Berth.Contracts.Registry;
using Berth.Data.Outbox;
using Berth.TestSupport;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.AuditLog.Tests.Elasticsearch;

/// <summary>
/// Elasticsearch as the search backend: over the documents the sink shipped it answers
/// every search, page, export page and aggregate exactly as the database does, the API
/// serves from it, and a cluster that is down is a clear "unavailable". Against the
/// in-test fake unless BERTH_TEST_ELASTICSEARCH_URL names a real cluster.
/// </summary>
public sealed class ElasticsearchSearchTests : ClusterTest
{
    private static readonly DateTime Start = new(2026, 11, 27, 22, 0, 0, DateTimeKind.Utc);

    [Fact]
    public async Task Every_search_page_export_and_aggregate_answers_as_the_database_does()
    {
        await using var host = await ElasticsearchShipping.StartAsync(Cluster, Prefix, TimeSpan.FromSeconds(10), batchSize: 40, searchBackend: "elasticsearch");
        var entries = Entries().ToList();
        await host.RecordAsync(entries);
        var recorded = await host.EntriesAsync();
        await host.WaitForCheckpointAsync(recorded[^1].Id, Patience);
        await Cluster.RefreshAsync(Prefix);

        var elastic = host.Services.GetRequiredService<IAuditSearch>();
        Assert.IsType<ElasticsearchAuditSearch>(elastic);
        var database = new DatabaseAuditSearch(host.Db);
        AuditFilter[] filters =
        [
            new(null, null, null, [], null, null),
            new("acme", null, null, [], null, null),
            new(null, "acme/web", null, [], null, null),
            new(null, null, "bob", [], null, null),
            new(null, null, null, [AuditKinds.PushRepo, AuditKinds.LoginFailure], null, null),
            new(null, null, null, [], Start.AddHours(3), Start.AddHours(27)),
            new("acme", null, null, [AuditKinds.PullRepo], Start.AddHours(1), null),
            new("beta", "beta/api", "alice", [AuditKinds.DeleteTag], null, Start.AddDays(2)),
            // As access control restricts someone who administers nothing: their own actions, by the kind of account.
            new(null, null, null, [], null, null) { PerformedBy = "acme+ci", PerformedByKind = "robot" },
            new(null, null, null, [], null, null) { PerformedBy = "acme+ci", PerformedByKind = "user" },
            new("nobody", null, null, [], null, null),
        ];
        foreach (var filter in filters)
        {
            var expected = await database.NewestAsync(filter, null, 1000, CancellationToken.None);
            Assert.Equal(Describe(expected), Describe(await elastic.NewestAsync(filter, null, 1000, CancellationToken.None)));
            Assert.Equal(Describe(expected), Describe(await PagesAsync(elastic, filter, 7)));
            var after = expected.Count > 2 ? expected[^3].Id : 0;
            Assert.Equal(Describe(await database.OldestAsync(filter, after, 5, CancellationToken.None)),
                Describe(await elastic.OldestAsync(filter, after, 5, CancellationToken.None)));
            Assert.Equal(await database.CountByKindPerDayAsync(filter, CancellationToken.None), await elastic.CountByKindPerDayAsync(filter, CancellationToken.None));
        }
        Assert.Equal(entries.Count, (await elastic.NewestAsync(filters[0], null, 1000, CancellationToken.None)).Count);
        // 22:00 on the 27th to 05:30 on the 30th.
        Assert.Equal(4, (await elastic.CountByKindPerDayAsync(filters[0], CancellationToken.None)).Select(c => c.Day).Distinct().Count());
        if (Cluster is FakeElasticsearch fake) Assert.Empty(fake.ProtocolErrors);
    }

    [SkippableFact]
    public async Task ACluster_that_is_down_makes_the_search_unavailable_with_the_reason()
    {
        Skip.If(Cluster is not FakeElasticsearch, "refuses requests at the cluster: needs the fake");
        var fake = (FakeElasticsearch)Cluster;
        await using var host = await ElasticsearchShipping.StartAsync(Cluster, Prefix, TimeSpan.FromSeconds(10), searchBackend: "elasticsearch");
        var search = host.Services.GetRequiredService<IAuditSearch>();
        fake.Refusing = true;
        var refused = await Assert.ThrowsAsync<RpcException>(() => search.NewestAsync(new(null, null, null, [], null, null), null, 10, CancellationToken.None));
        Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
        Assert.Contains("Elasticsearch", refused.Status.Detail);
        Assert.Contains("503", refused.Status.Detail);
        fake.Refusing = false;
        Assert.Empty(await search.NewestAsync(new(null, null, null, [], null, null), null, 10, CancellationToken.None));
    }

    [Theory]
    [InlineData("elasticsearch", null, "AuditLog:Elasticsearch:Url is not set")]
    [InlineData("solr", null, "not one of: database, elasticsearch")]
    public async Task A_search_backend_that_cannot_work_stops_the_start_with_the_reason(string backend, string? url, string reason)
    {
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => ShippingTestHost.StartAsync("none",
            new Dictionary<string, string?> { ["AuditLog:SearchBackend"] = backend, ["AuditLog:Elasticsearch:Url"] = url }));
        Assert.Contains(reason, refused.Message);
    }

    [Fact]
    public async Task The_api_serves_searches_and_exports_from_elasticsearch()
    {
        using var data = new TempDirectory("berth-auditlog-es");
        string[] apiKey = Cluster.ApiKey is { } key ? ["--AuditLog:Elasticsearch:ApiKey", key] : [];
        await using var server = await BerthHosts.StartSecuredServerAsync(data.Path,
            ["--AuditLog:Elasticsearch:Url", Cluster.Url, "--AuditLog:Elasticsearch:IndexPrefix", Prefix,
             "--AuditLog:SearchBackend", "elasticsearch", "--AuditLog:ShippingMaxBackoff", "00:00:00.400", .. apiKey]);
        var bus = server.App.Services.GetRequiredService<InProcessEventBus>();
        var actor = new EventActor("erin", "user", "192.0.2.44", "podman/5.0");
        var tags = Enumerable.Range(0, 5).Select(i => new TagCreated("esorg/app", $"v{i}", "sha256:" + new string('d', 64)) { Actor = actor }).ToList();
        foreach (var tag in tags) await bus.PublishAsync(tag, CancellationToken.None);

        var admin = RegistryLogin.WithBasic(server.CreateClient(), "admin", BerthHosts.AdminPassword);
        var deadline = DateTime.UtcNow + Patience;
        List<JsonElement> found;
        while (true)
        {
            await Cluster.RefreshAsync(Prefix);
            var (status, body) = await RegistryLogin.CallAsync(admin, HttpMethod.Get, "/api/v1/auditlog/entries?namespace=esorg&pageSize=3");
            Assert.Equal(HttpStatusCode.OK, status);
            found = [.. body!.Value.GetProperty("entries").EnumerateArray()];
            // Shipping goes in batches at low priority: wait until the newest event is searchable, not only three of them.
            if ((found.Count == 3 && found[0].GetProperty("id").GetString() == tags[^1].EventId.ToString()) || DateTime.UtcNow > deadline) break;
            await Task.Delay(100);
        }
        Assert.Equal(tags.AsEnumerable().Reverse().Take(3).Select(t => t.EventId.ToString()), found.Select(e => e.GetProperty("id").GetString()));
        Assert.All(found, e => Assert.Equal(("erin", "create_tag", "192.0.2.44"),
            (e.GetProperty("performer").GetString(), e.GetProperty("kind").GetString(), e.GetProperty("address").GetString())));

        var export = await admin.GetStringAsync("/api/v1/auditlog/export?namespace=esorg");
        Assert.Equal(tags.Select(t => t.EventId.ToString()),
            export.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement.GetProperty("id").GetString()));
        if (Cluster is FakeElasticsearch fake)
        {
            Assert.True(fake.Searches > 0);
            Assert.Empty(fake.ProtocolErrors);
            fake.Refusing = true;
            var (status, _) = await RegistryLogin.CallAsync(admin, HttpMethod.Get, "/api/v1/auditlog/entries?namespace=esorg");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            using var refusedExport = await admin.GetAsync("/api/v1/auditlog/export?namespace=esorg");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refusedExport.StatusCode);
            fake.Refusing = false;
        }
    }

    /// <summary>Every page of a search, following the cursor (the last sequence of a page) as the API does.</summary>
    private static async Task<List<AuditEntry>> PagesAsync(IAuditSearch search, AuditFilter filter, int size)
    {
        var all = new List<AuditEntry>();
        long? before = null;
        while (true)
        {
            var page = await search.NewestAsync(filter, before, size, CancellationToken.None);
            all.AddRange(page);
            if (page.Count < size) return all;
            before = page[^1].Id;
        }
    }

    /// <summary>Four days of actions across namespaces, repositories, performers (a robot among them) and kinds, at sub-second times.</summary>
    private static IEnumerable<AuditEntry> Entries()
    {
        string[] kinds = [AuditKinds.PushRepo, AuditKinds.PullRepo, AuditKinds.DeleteTag, AuditKinds.LoginFailure];
        for (var i = 0; i < 90; i++)
        {
            var (@namespace, repository) = (i % 3) switch { 0 => ("acme", "acme/web"), 1 => ("beta", "beta/api"), _ => ("acme", (string?)null) };
            var entry = ElasticsearchShipping.Entry(kinds[i % kinds.Length], @namespace, Start.AddMinutes(i * 37).AddMilliseconds(i * 13 + 1),
                repository: repository, performer: (i % 5) switch { 0 or 1 => "alice", 2 or 3 => "bob", _ => "acme+ci" },
                address: i % 4 == 0 ? null : $"192.0.2.{i}", metadata: $$"""{"tag":"v{{i}}","n":{{i}}}""");
            if (entry.Performer == "acme+ci") entry.PerformerKind = "robot";
            yield return entry;
        }
    }

    private static List<string> Describe(IEnumerable<AuditEntry> entries) =>
        [.. entries.Select(e => string.Join('|', e.Id, e.EntryId, e.Kind, e.Namespace, e.Repository, e.Performer, e.PerformerKind, e.Address,
            e.UserAgent, e.RequestId, DateTime.SpecifyKind(e.OccurredAt, DateTimeKind.Utc).ToString("O"), JsonNode.Parse(e.Metadata)!.ToJsonString(), e.SourceEvent))];
}
