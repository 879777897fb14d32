using System.Net;
using System.Text.Json;

namespace Berth.AuditLog.Shipping.Splunk;

/// <summary>
/// HEC's answer to a request: the HTTP status, the JSON body's code, text, ackId and
/// invalid-event-number (0-based index of the first bad event in a batch; HEC indexed
/// the events before it) where there is one, and the body itself.
/// </summary>
internal sealed record HecReply(HttpStatusCode Status, int? Code, string Text, long? AckId, string Body, int? InvalidEventNumber = null)
{
    public static async Task<HecReply> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        int? code = null;
        long? ackId = null;
        int? invalidEvent = null;
        var text = body;
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                if (root.TryGetProperty("code", out var c) && c.TryGetInt32(out var codeValue)) code = codeValue;
                if (root.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String) text = t.GetString() ?? "";
                if (root.TryGetProperty("ackId", out var a) && a.TryGetInt64(out var ackValue)) ackId = ackValue;
                if (root.TryGetProperty("invalid-event-number", out var n) && n.TryGetInt32(out var nValue) && nValue >= 0) invalidEvent = nValue;
            }
        }
        catch (JsonException)
        {
            // A proxy in front of HEC may answer with HTML; the status still says what happened.
        }
        return new HecReply(response.StatusCode, code, text.Length > 200 ? text[..200] : text, ackId, body, invalidEvent);
    }

    public override string ToString() => $"HTTP {(int)Status}, code {Code?.ToString() ?? "none"}: {Text}{(InvalidEventNumber is { } n ? $", invalid event {n}" : "")}";
}
