using System.Text.Json.Nodes;

namespace Berth.AuditLog.Tests.Elasticsearch;

/// <summary>
/// The Elasticsearch a test ships to: a real one when BERTH_TEST_ELASTICSEARCH_URL
/// is set (optionally with BERTH_TEST_ELASTICSEARCH_API_KEY), the in-test fake otherwise.
/// </summary>
public interface ISearchCluster : IAsyncDisposable
{
    string Url { get; }

    string? ApiKey { get; }

    /// <summary>Every document in the indices "{prefix}-*", by event.sequence.</summary>
    Task<IReadOnlyList<IndexedDocument>> DocumentsAsync(string prefix);

    /// <summary>The ILM policy as it was put ({"policy": …}); null when there is none.</summary>
    Task<JsonObject?> PolicyAsync(string name);

    /// <summary>The composable index template as it was put; null when there is none.</summary>
    Task<JsonObject?> TemplateAsync(string name);

    /// <summary>Makes what was indexed in "{prefix}-*" visible to searches (a real cluster refreshes about once a second).</summary>
    Task RefreshAsync(string prefix);

    /// <summary>Removes what a test with this prefix left (a real cluster outlives the test run).</summary>
    Task CleanUpAsync(string prefix);

    static async Task<ISearchCluster> StartAsync()
    {
        var url = Environment.GetEnvironmentVariable("BERTH_TEST_ELASTICSEARCH_URL");
        if (!string.IsNullOrEmpty(url)) return new RealElasticsearch(url, Environment.GetEnvironmentVariable("BERTH_TEST_ELASTICSEARCH_API_KEY"));
        return await FakeElasticsearch.StartAsync();
    }
}

public sealed record IndexedDocument(string Index, string Id, JsonObject Source)
{
    public long Sequence => Source["event"]!["sequence"]!.GetValue<long>();

    public string Namespace => Source["berth"]!["namespace"]!.GetValue<string>();
}
