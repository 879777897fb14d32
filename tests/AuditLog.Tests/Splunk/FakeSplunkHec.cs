using System.Net;
using System.Text;
using System.Text.Json;
using Berth.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Berth.AuditLog.Tests.Splunk;

/// <summary>
/// A Splunk HTTP Event Collector for tests, on a loopback port: it implements and checks
/// the parts the sink uses (token auth, the batch format, the metadata each event must
/// carry, the channel header and the ack endpoint) and records anything off in
/// <see cref="Violations"/>. Tests inject faults: busy answers, a hanging collector, a
/// stopped one (connection refused), invalid-data rejections, late or lost acks.
/// </summary>
public sealed class FakeSplunkHec(int port, string token, string? index, string sourceType, string source, string host, bool acks) : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly List<JsonElement> _events = [];
    private readonly List<string> _violations = [];
    private readonly Dictionary<long, (string Channel, DateTime ReadyAt, bool Lost)> _acks = [];
    private WebApplication? _app;
    private long _nextAckId;
    private TimeSpan? _hang;

    public int Port { get; } = port;

    public string Url => $"http://127.0.0.1:{Port}";

    public string Token { get; } = token;

    public string? Index { get; } = index;

    public string SourceType { get; } = sourceType;

    public string Source { get; } = source;

    public string Host { get; } = host;

    /// <summary>Indexer acknowledgement is on for the token: requests need a channel and get an ackId.</summary>
    public bool AcksEnabled { get; } = acks;

    /// <summary>Answer every request with 503 "Server is busy" (code 9).</summary>
    public bool Busy { get; set; }

    /// <summary>Hold every request this long (or until the client gives up) and then answer 503, indexing nothing.</summary>
    public TimeSpan? Hang
    {
        get { lock (_gate) return _hang; }
        set { lock (_gate) _hang = value; }
    }

    /// <summary>
    /// Which events (by their "event" body) the collector finds invalid. Like real HEC, a batch holding one
    /// has the events before the first such event indexed and gets 400 "Invalid data format"
    /// (code 6) with its 0-based invalid-event-number; it and the events after it are not indexed.
    /// </summary>
    public Func<JsonElement, bool>? InvalidEvent { get; set; }

    /// <summary>HEC's max_content_length: a larger request is refused with 413 and nothing of it indexed.</summary>
    public int? MaxContentLength { get; set; }

    /// <summary>An ack becomes true this long after its batch was indexed.</summary>
    public TimeSpan AckDelay { get; set; }

    /// <summary>The acks of this many next batches never become true (the events are indexed all the same).</summary>
    public int LoseAcks { get; set; }

    public int EventRequests { get; private set; }

    public int AckQueries { get; private set; }

    /// <summary>Requests refused as larger than <see cref="MaxContentLength"/>.</summary>
    public int TooLarge { get; private set; }

    public int AuthFailures { get; private set; }

    /// <summary>Acks the collector has answered true so far.</summary>
    public int AcksConfirmed { get; private set; }

    /// <summary>The events indexed so far, in arrival order.</summary>
    public IReadOnlyList<JsonElement> Events
    {
        get { lock (_gate) return [.. _events]; }
    }

    /// <summary>Everything the sink sent that a real HEC would have refused or indexed differently.</summary>
    public IReadOnlyList<string> Violations
    {
        get { lock (_gate) return [.. _violations]; }
    }

    public static async Task<FakeSplunkHec> StartAsync(string? index = "berth_audit", string sourceType = "berth:audit", string source = "berth", string host = "berth-test", bool acks = false)
    {
        var hec = new FakeSplunkHec(LoopbackPorts.Free(), Guid.NewGuid().ToString(), index, sourceType, source, host, acks);
        await hec.RestartAsync();
        return hec;
    }

    /// <summary>Stops listening: the sink's next requests are refused at the socket.</summary>
    public async Task StopAsync()
    {
        if (_app is null) return;
        await _app.StopAsync();
        await _app.DisposeAsync();
        _app = null;
    }

    /// <summary>Listens again on the same port, with everything indexed so far kept.</summary>
    public async Task RestartAsync()
    {
        await StopAsync();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, Port));
        var app = builder.Build();
        // As Delegate, so the returned IResult is written as the response.
        app.MapGet("/services/collector/health", (Delegate)HealthAsync);
        app.MapPost("/services/collector/event", (Delegate)EventAsync);
        app.MapPost("/services/collector/ack", (Delegate)AckAsync);
        await app.StartAsync();
        _app = app;
    }

    private async Task<IResult> HealthAsync(HttpContext context)
    {
        if (await FaultAsync(context) is { } fault) return fault;
        return Reply(HttpStatusCode.OK, 17, "HEC is healthy");
    }

    private async Task<IResult> EventAsync(HttpContext context)
    {
        lock (_gate) EventRequests++;
        if (await FaultAsync(context) is { } fault) return fault;
        if (Authenticate(context) is { } refused) return refused;
        var channel = context.Request.Headers["X-Splunk-Request-Channel"].ToString();
        if (AcksEnabled && ChannelProblem(channel) is { } channelProblem) return channelProblem;

        var body = await ReadBodyAsync(context);
        if (body.Length > MaxContentLength)
        {
            lock (_gate) TooLarge++;
            return Reply(HttpStatusCode.RequestEntityTooLarge, 27, $"Content-Length of {body.Length} too large (maximum is {MaxContentLength})");
        }
        List<JsonElement> events;
        try
        {
            events = ParseBatch(body);
        }
        catch (JsonException e)
        {
            return Violation(6, "Invalid data format", $"the batch is not concatenated JSON objects: {e.Message}");
        }
        if (events.Count == 0) return Violation(5, "No data", "an empty batch");
        for (var i = 0; i < events.Count; i++)
        {
            if (CheckEvent(events[i]) is { } problem)
                return Violation(problem.Code, problem.Text, $"event {i}: {problem.Detail}");
        }

        lock (_gate)
        {
            var invalid = InvalidEvent is { } isInvalid ? events.FindIndex(e => isInvalid(e.GetProperty("event"))) : -1;
            if (invalid >= 0)
            {
                _events.AddRange(events.Take(invalid));
                return Results.Json(new Dictionary<string, object> { ["text"] = "Invalid data format", ["code"] = 6, ["invalid-event-number"] = invalid }, statusCode: 400);
            }
            _events.AddRange(events);
            if (!AcksEnabled) return Reply(HttpStatusCode.OK, 0, "Success");
            var ackId = _nextAckId++;
            var lost = LoseAcks > 0;
            if (lost) LoseAcks--;
            _acks[ackId] = (channel, DateTime.UtcNow + AckDelay, lost);
            return Results.Json(new { text = "Success", code = 0, ackId });
        }
    }

    private async Task<IResult> AckAsync(HttpContext context)
    {
        lock (_gate) AckQueries++;
        if (await FaultAsync(context) is { } fault) return fault;
        if (Authenticate(context) is { } refused) return refused;
        if (!AcksEnabled) return Violation(14, "ACK is disabled", "an ack query while acks are off");
        var channel = context.Request.Query["channel"].ToString();
        if (channel.Length == 0) channel = context.Request.Headers["X-Splunk-Request-Channel"].ToString();
        if (ChannelProblem(channel) is { } channelProblem) return channelProblem;

        long[] ids;
        try
        {
            using var query = JsonDocument.Parse(await ReadBodyAsync(context));
            ids = [.. query.RootElement.GetProperty("acks").EnumerateArray().Select(a => a.GetInt64())];
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return Violation(6, "Invalid data format", $"ack query is not {{\"acks\":[ids]}}: {e.Message}");
        }
        var answer = new Dictionary<string, bool>();
        lock (_gate)
        {
            foreach (var id in ids)
            {
                var done = _acks.TryGetValue(id, out var ack) && ack.Channel == channel && !ack.Lost && DateTime.UtcNow >= ack.ReadyAt;
                answer[id.ToString(System.Globalization.CultureInfo.InvariantCulture)] = done;
                if (done) AcksConfirmed++;
            }
        }
        return Results.Json(new { acks = answer });
    }

    private async Task<IResult?> FaultAsync(HttpContext context)
    {
        if (Hang is { } hang)
        {
            try { await Task.Delay(hang, context.RequestAborted); }
            catch (OperationCanceledException) { }
            return Reply(HttpStatusCode.ServiceUnavailable, 9, "Server is busy");
        }
        return Busy ? Reply(HttpStatusCode.ServiceUnavailable, 9, "Server is busy") : null;
    }

    private IResult? Authenticate(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        IResult? refused = null;
        if (header.Length == 0) refused = Reply(HttpStatusCode.Unauthorized, 2, "Token is required");
        else if (!header.StartsWith("Splunk ", StringComparison.Ordinal)) refused = Reply(HttpStatusCode.Unauthorized, 3, "Invalid authorization");
        else if (header["Splunk ".Length..] != Token) refused = Reply(HttpStatusCode.Forbidden, 4, "Invalid token");
        if (refused is not null) lock (_gate) AuthFailures++;
        return refused;
    }

    private IResult? ChannelProblem(string channel)
    {
        if (channel.Length == 0) return Violation(10, "Data channel is missing", "no X-Splunk-Request-Channel with acks on");
        return Guid.TryParse(channel, out _) ? null : Violation(11, "Invalid data channel", $"channel '{channel}' is not a GUID");
    }

    /// <summary>HEC's batch format: JSON objects one after another (the sink separates them with newlines).</summary>
    private static List<JsonElement> ParseBatch(byte[] body)
    {
        var events = new List<JsonElement>();
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { AllowMultipleValues = true });
        while (reader.Read())
        {
            using var document = JsonDocument.ParseValue(ref reader);
            if (document.RootElement.ValueKind != JsonValueKind.Object) throw new JsonException("a batch holds only objects");
            events.Add(document.RootElement.Clone());
        }
        return events;
    }

    private (int Code, string Text, string Detail)? CheckEvent(JsonElement e)
    {
        if (!e.TryGetProperty("event", out var body)) return (12, "Event field is required", "no event field");
        if (body.ValueKind != JsonValueKind.Object || !body.EnumerateObject().Any()) return (13, "Event field cannot be blank", "event is not a non-empty object");
        if (!e.TryGetProperty("time", out var time) || time.ValueKind != JsonValueKind.Number || time.GetDecimal() <= 0)
            return (6, "Invalid data format", "time is not epoch seconds");
        if (decimal.Round(time.GetDecimal(), 3) != time.GetDecimal()) return (6, "Invalid data format", $"time {time} has more than millisecond precision");
        if (Field(e, "index") != Index) return (7, "Incorrect index", $"index '{Field(e, "index")}', expected '{Index}'");
        if (Field(e, "sourcetype") != SourceType) return (6, "Invalid data format", $"sourcetype '{Field(e, "sourcetype")}', expected '{SourceType}'");
        if (Field(e, "source") != Source) return (6, "Invalid data format", $"source '{Field(e, "source")}', expected '{Source}'");
        if (Field(e, "host") != Host) return (6, "Invalid data format", $"host '{Field(e, "host")}', expected '{Host}'");
        return null;
    }

    private static string? Field(JsonElement e, string name) =>
        e.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private IResult Violation(int code, string text, string detail)
    {
        lock (_gate) _violations.Add($"{text} (code {code}): {detail}");
        return Reply(HttpStatusCode.BadRequest, code, text);
    }

    private static IResult Reply(HttpStatusCode status, int code, string text) => Results.Json(new { text, code }, statusCode: (int)status);

    private static async Task<byte[]> ReadBodyAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        return buffer.ToArray();
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
