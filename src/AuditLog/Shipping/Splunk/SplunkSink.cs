using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Berth.AuditLog.Data;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.AuditLog.Shipping.Splunk;

/// <summary>
/// Ships the log to a Splunk HTTP Event Collector: each batch is one request in HEC's
/// batch format. Busy, unreachable or slow collectors and refused tokens throw, so the
/// shipper backs off and sends the batch again; a batch HEC calls invalid data is
/// counted as rejected and passed over, so one bad batch never blocks the log, except
/// that when HEC names the first bad event (invalid-event-number) only that event is
/// rejected, those before it count as delivered and those after it are sent again. With
/// <see cref="SplunkSinkOptions.UseAcks"/> a batch counts only once the indexer
/// acknowledged it. A batch larger than the collector's max_content_length (413) is
/// halved until it fits, and later batches keep to the size that fitted.
/// </summary>
public sealed class SplunkSink(IOptions<AuditLogOptions> options, AuditLogMetrics metrics, ILogger<SplunkSink> logger) : IAuditSink, IDisposable
{
    // HEC's codes for a request whose data it will never accept, however often it is sent:
    // no data, invalid data format, event field missing or blank, bad indexed fields.
    private static readonly HashSet<int> InvalidDataCodes = [5, 6, 12, 13, 15];
    private static readonly TimeSpan FirstAckPoll = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan LongestAckPoll = TimeSpan.FromSeconds(1);

    /// <summary>Room for a full batch of pull events (about 700 bytes each) without growing.</summary>
    private readonly int _initialBufferSize = options.Value.ShippingBatchSize * 1024;

    private readonly SplunkSinkOptions _options = options.Value.Splunk;
    private readonly string _host = string.IsNullOrEmpty(options.Value.Splunk.Host) ? Environment.MachineName : options.Value.Splunk.Host;

    // Each request has its own deadline (RequestTimeout), so the client's own stays out of the way.
    private readonly HttpClient _http = new()
    {
        BaseAddress = new Uri((options.Value.Splunk.Url ?? throw new InvalidOperationException("AuditLog:Splunk:Url is required for the Splunk sink")).TrimEnd('/') + "/"),
        Timeout = Timeout.InfiniteTimeSpan,
    };

    // One channel per sink instance: HEC keeps ack ids per channel.
    private readonly string _channel = Guid.NewGuid().ToString();

    // At most this many events a request; lowered when HEC answers 413 (its max_content_length).
    private int _eventsPerRequest = int.MaxValue;

    // The last batch's buffer, kept for the next one (see HecBatch.Serialize); taken while a batch is out, so
    // batches shipped at once (never by the shipper, which ships one at a time) each get their own.
    private ArrayBufferWriter<byte>? _spareBuffer;

    public string Name => "splunk";

    /// <summary>Nothing to install at HEC; only checks it answers, so an unreachable collector is backed off from early.</summary>
    public async Task PrepareAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "services/collector/health");
        var reply = await SendAsync(request, cancellationToken);
        if ((int)reply.Status >= 500)
            throw new HttpRequestException($"Splunk HEC is not healthy ({reply})", null, reply.Status);
    }

    public async Task<int> ShipAsync(IReadOnlyList<AuditEntry> batch, CancellationToken cancellationToken)
    {
        if (batch.Count > _eventsPerRequest) batch = [.. batch.Take(_eventsPerRequest)];
        var buffer = Interlocked.Exchange(ref _spareBuffer, null) ?? new ArrayBufferWriter<byte>(_initialBufferSize);
        HecReply reply;
        try
        {
            using var request = NewRequest("services/collector/event", HecBatch.Serialize(buffer, batch, _options, _host));
            reply = await SendAsync(request, cancellationToken);
        }
        finally
        {
            // Sent or failed, the request is done with the bytes.
            buffer.ResetWrittenCount();
            _spareBuffer = buffer;
        }
        switch (reply.Status)
        {
            case HttpStatusCode.OK when !_options.UseAcks:
                return batch.Count;
            case HttpStatusCode.OK:
                if (reply.AckId is not { } ackId)
                    throw new InvalidOperationException($"Splunk HEC answered without an ackId ({reply}); enable indexer acknowledgement on the token or turn AuditLog:Splunk:UseAcks off");
                if (await WaitForAckAsync(ackId, cancellationToken)) return batch.Count;
                // HEC has no idempotent ids: the batch may well be indexed and only its ack
                // lost, so sending it again can duplicate it. Every event carries its entry
                // id, so searches drop such duplicates with "| dedup id".
                logger.LogWarning("Splunk HEC did not acknowledge audit entries {First}..{Last} within {Timeout}; sending them again",
                    batch[0].Id, batch[^1].Id, _options.AckTimeout);
                return 0;
            case HttpStatusCode.BadRequest when reply.Code is { } code && InvalidDataCodes.Contains(code)
                                                && reply.InvalidEventNumber is { } bad && bad < batch.Count:
                // HEC indexed the events before the bad one and dropped the rest: those before
                // count as delivered, the bad one is passed over, the rest go in the next batch.
                logger.LogError("Splunk HEC rejected audit entry {Sequence} (id {EntryId}) as invalid ({Reply}); it is passed over, the {Indexed} entries before it were indexed and the rest are sent again",
                    batch[bad].Id, batch[bad].EntryId, reply, bad);
                metrics.Rejected(Name, 1);
                return bad + 1;
            case HttpStatusCode.BadRequest when reply.Code is { } code && InvalidDataCodes.Contains(code):
                logger.LogError("Splunk HEC rejected audit entries {First}..{Last} as invalid ({Reply}); they are passed over so later entries are not held up",
                    batch[0].Id, batch[^1].Id, reply);
                metrics.Rejected(Name, batch.Count);
                return batch.Count;
            case HttpStatusCode.RequestEntityTooLarge when batch.Count > 1:
                // Too large for the collector's max_content_length: half now, and the rest
                // in later batches of the size that fits.
                _eventsPerRequest = batch.Count / 2;
                logger.LogWarning("Splunk HEC refused {Count} audit entries as too large ({Reply}); sending at most {Limit} a request", batch.Count, reply, _eventsPerRequest);
                return await ShipAsync(batch, cancellationToken);
            case HttpStatusCode.RequestEntityTooLarge:
                // One event larger than the collector takes will never be accepted.
                logger.LogError("Splunk HEC refused audit entry {Sequence} (id {EntryId}) as too large ({Reply}); it is passed over",
                    batch[0].Id, batch[0].EntryId, reply);
                metrics.Rejected(Name, 1);
                return 1;
            case HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden:
                throw new InvalidOperationException($"Splunk HEC refused the token ({reply}); check AuditLog:Splunk:Token. Nothing is shipped until it is accepted");
            default:
                // Busy (503, code 9), other server errors, 429, and requests HEC refuses for a
                // configuration reason (wrong index, channel, acks off): sent again after backoff.
                throw new HttpRequestException($"Splunk HEC did not accept the batch ({reply})", null, reply.Status);
        }
    }

    /// <summary>Polls the ack endpoint until the indexer confirmed <paramref name="ackId"/> or <see cref="SplunkSinkOptions.AckTimeout"/> passed.</summary>
    private async Task<bool> WaitForAckAsync(long ackId, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + _options.AckTimeout;
        var pause = FirstAckPoll;
        var query = Encoding.UTF8.GetBytes($"{{\"acks\":[{ackId}]}}");
        while (true)
        {
            using var request = NewRequest($"services/collector/ack?channel={_channel}", query);
            var reply = await SendAsync(request, cancellationToken);
            if (reply.Status != HttpStatusCode.OK)
                throw new HttpRequestException($"Splunk HEC ack query failed ({reply})", null, reply.Status);
            if (IsAcknowledged(reply.Body, ackId)) return true;
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) return false;
            await Task.Delay(pause < left ? pause : left, cancellationToken);
            pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, LongestAckPoll.Ticks));
        }
    }

    private static bool IsAcknowledged(string body, long ackId)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.TryGetProperty("acks", out var acks)
                && acks.ValueKind == JsonValueKind.Object
                && acks.TryGetProperty(ackId.ToString(System.Globalization.CultureInfo.InvariantCulture), out var done)
                && done.ValueKind == JsonValueKind.True;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private HttpRequestMessage NewRequest(string path, ReadOnlyMemory<byte> body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ReadOnlyMemoryContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Authorization = new AuthenticationHeaderValue("Splunk", _options.Token);
        if (_options.UseAcks) request.Headers.Add("X-Splunk-Request-Channel", _channel);
        return request;
    }

    private async Task<HecReply> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.RequestTimeout);
        try
        {
            using var response = await _http.SendAsync(request, deadline.Token);
            return await HecReply.ReadAsync(response, deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"Splunk HEC did not answer within {_options.RequestTimeout}");
        }
    }

    public void Dispose() => _http.Dispose();
}
