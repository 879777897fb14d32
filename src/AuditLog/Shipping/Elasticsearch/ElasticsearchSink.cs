using System.Text.Json.Nodes;
using Berth.AuditLog.Data;
using Elastic.Clients.Elasticsearch;
using Elastic.Clients.Elasticsearch.Core.Bulk;
using Elastic.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.AuditLog.Shipping.Elasticsearch;

/// <summary>
/// Ships audit entries to Elasticsearch as ECS documents in daily indices, one
/// <c>_bulk</c> request per batch. The entry id is the document id, so a batch sent
/// again overwrites rather than duplicates.
/// </summary>
public sealed class ElasticsearchSink : IAuditSink
{
    private readonly ElasticsearchClient _client;
    private readonly ElasticsearchSinkOptions _options;
    private readonly AuditLogMetrics _metrics;
    private readonly ILogger<ElasticsearchSink> _logger;

    public ElasticsearchSink(IOptions<AuditLogOptions> options, AuditLogMetrics metrics, ILogger<ElasticsearchSink> logger)
    {
        _options = options.Value.Elasticsearch;
        _metrics = metrics;
        _logger = logger;
        _client = ElasticsearchConnection.CreateClient(_options);
    }

    public string Name => "elasticsearch";

    public async Task PrepareAsync(CancellationToken cancellationToken)
    {
        var policy = IndexSetup.PolicyName(_options.IndexPrefix);
        // The policy first: the template names it, and indices created from the template look it up.
        await PutAsync($"/_ilm/policy/{policy}", IndexSetup.Policy(_options.DeleteAfterDays), cancellationToken);
        await PutAsync($"/_index_template/{_options.IndexPrefix}", IndexSetup.Template(_options.IndexPrefix), cancellationToken);
    }

    public async Task<int> ShipAsync(IReadOnlyList<AuditEntry> batch, CancellationToken cancellationToken)
    {
        if (batch.Count == 0) return 0;
        var request = new BulkRequest { Operations = [] };
        foreach (var entry in batch)
            request.Operations.Add(new BulkIndexOperation<JsonObject>(EcsDocument.From(entry), EcsDocument.IndexName(_options.IndexPrefix, entry))
            {
                Id = entry.EntryId.ToString(),
            });
        var response = await _client.BulkAsync(request, cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        var details = response.ApiCallDetails;
        if (details.HttpStatusCode is not (>= 200 and < 300))
            throw new ElasticsearchSinkException($"bulk request failed: {ElasticsearchConnection.Describe(details)}", details.OriginalException);

        var items = response.Items;
        if (items.Count != batch.Count)
            throw new ElasticsearchSinkException($"bulk response has {items.Count} results for {batch.Count} documents");
        return CountDelivered(batch, items);
    }

    /// <summary>
    /// The leading run of entries Elasticsearch has: indexed, or refused for good. A
    /// refusal it would repeat forever (a mapping error, any 4xx but 429) is logged,
    /// counted and passed over, or one bad document would hold the whole log back; an
    /// overload or server error (429, 5xx) ends the run, and the rest is sent again.
    /// </summary>
    private int CountDelivered(IReadOnlyList<AuditEntry> batch, IReadOnlyCollection<ResponseItem> items)
    {
        var delivered = 0;
        foreach (var item in items)
        {
            if (item.Status is 200 or 201)
            {
                delivered++;
                continue;
            }
            // Only a document Elasticsearch will never accept is passed over; anything else
            // (throttling, rights, a closed or missing index) is sent again once fixed.
            if (item.Status != 400 || !IsDocumentError(item.Error?.Type)) return delivered;
            var entry = batch[delivered];
            _logger.LogError("Elasticsearch refused audit entry {EntryId} ({Kind}, id {Id}) with status {Status}: {ErrorType}: {Reason}; it is not sent again",
                entry.EntryId, entry.Kind, entry.Id, item.Status, item.Error?.Type, item.Error?.Reason);
            _metrics.Rejected(Name, 1);
            delivered++;
        }
        return delivered;
    }

    private static bool IsDocumentError(string? type) =>
        type is "mapper_parsing_exception" or "document_parsing_exception" or "illegal_argument_exception" or "strict_dynamic_mapping_exception";

    private async Task PutAsync(string path, JsonObject body, CancellationToken cancellationToken)
    {
        var response = await _client.Transport.RequestAsync<StringResponse>(
            Elastic.Transport.HttpMethod.PUT, path, PostData.String(body.ToJsonString()), cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        if (!response.ApiCallDetails.HasSuccessfulStatusCode)
            throw new ElasticsearchSinkException($"PUT {path} failed: {ElasticsearchConnection.Describe(response.ApiCallDetails)} {ElasticsearchConnection.Truncate(response.Body)}", response.ApiCallDetails.OriginalException);
    }
}
