using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Berth.AuditLog.Tests.Elasticsearch;

/// <summary>A running Elasticsearch, read back through its REST API.</summary>
public sealed class RealElasticsearch : ISearchCluster
{
    private readonly HttpClient _http;

    public RealElasticsearch(string url, string? apiKey)
    {
        Url = url;
        ApiKey = string.IsNullOrEmpty(apiKey) ? null : apiKey;
        _http = new HttpClient { BaseAddress = new Uri(url.TrimEnd('/') + "/"), Timeout = TimeSpan.FromSeconds(30) };
        if (ApiKey is not null) _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("ApiKey", ApiKey);
    }

    public string Url { get; }

    public string? ApiKey { get; }

    public async Task RefreshAsync(string prefix) =>
        (await _http.PostAsync($"{prefix}-*/_refresh?allow_no_indices=true", null)).EnsureSuccessStatusCode();

    public async Task<IReadOnlyList<IndexedDocument>> DocumentsAsync(string prefix)
    {
        await RefreshAsync(prefix);
        var query = new JsonObject { ["size"] = 10_000, ["sort"] = new JsonArray(new JsonObject { ["event.sequence"] = "asc" }) };
        var response = await _http.PostAsJsonAsync($"{prefix}-*/_search", query);
        response.EnsureSuccessStatusCode();
        var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        return [.. body["hits"]!["hits"]!.AsArray().Select(hit => new IndexedDocument(
            hit!["_index"]!.GetValue<string>(), hit["_id"]!.GetValue<string>(), hit["_source"]!.AsObject().DeepClone().AsObject()))];
    }

    public async Task<JsonObject?> PolicyAsync(string name)
    {
        var response = await _http.GetAsync($"_ilm/policy/{name}");
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound) return null;
        response.EnsureSuccessStatusCode();
        var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        return new JsonObject { ["policy"] = body[name]!["policy"]!.DeepClone() };
    }

    public async Task<JsonObject?> TemplateAsync(string name)
    {
        var response = await _http.GetAsync($"_index_template/{name}");
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound) return null;
        response.EnsureSuccessStatusCode();
        var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        return body["index_templates"]!.AsArray().Single()!["index_template"]!.DeepClone().AsObject();
    }

    public async Task CleanUpAsync(string prefix)
    {
        // By name: deleting by wildcard is refused where action.destructive_requires_name is on (the default).
        var indices = await _http.GetFromJsonAsync<JsonArray>($"_cat/indices/{prefix}-*?format=json&h=index") ?? [];
        foreach (var index in indices) await _http.DeleteAsync(index!["index"]!.GetValue<string>());
        await _http.DeleteAsync($"_index_template/{prefix}");
        await _http.DeleteAsync($"_ilm/policy/{prefix}-policy");
    }

    public ValueTask DisposeAsync()
    {
        _http.Dispose();
        return ValueTask.CompletedTask;
    }
}
