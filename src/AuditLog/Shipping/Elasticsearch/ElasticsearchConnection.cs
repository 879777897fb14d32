using Elastic.Clients.Elasticsearch;
using Elastic.Transport;

namespace Berth.AuditLog.Shipping.Elasticsearch;

/// <summary>The one client set-up for everything that talks to the configured cluster (the sink, the search backend).</summary>
public static class ElasticsearchConnection
{
    public static ElasticsearchClient CreateClient(ElasticsearchSinkOptions options)
    {
        var settings = new ElasticsearchClientSettings(new Uri(options.Url ?? throw new InvalidOperationException("AuditLog:Elasticsearch:Url is not set")))
            .RequestTimeout(options.RequestTimeout)
            // Callers retry with backoff (the shipper keeps its checkpoint); retries inside the client would only hide an outage.
            .MaximumRetries(0);
        if (!string.IsNullOrEmpty(options.ApiKey)) settings = settings.Authentication(new ApiKey(options.ApiKey));
        else if (!string.IsNullOrEmpty(options.Username)) settings = settings.Authentication(new BasicAuthentication(options.Username, options.Password ?? ""));
        return new ElasticsearchClient(settings);
    }

    public static string Describe(ApiCallDetails details) =>
        details.HttpStatusCode is { } status ? $"status {status}" : details.OriginalException?.Message ?? "no response";

    public static string Truncate(string? text) => text is null || text.Length <= 500 ? text ?? "" : text[..500];
}
