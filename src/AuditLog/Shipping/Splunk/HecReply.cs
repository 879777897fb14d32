using System.Net;
using System.Text.Json;

namespace Berth.AuditLog.Shipping.Splunk;

/// <summary>HEC's answer to a request: the HTTP status, the JSON body's code, text and ackId where there is one, and the body itself.</summary>
internal sealed record HecReply(HttpStatusCode Status, int? Code, string Text, long? AckId, string Body)
{
    public static async Task<HecReply> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        int? code = null;
        long? ackId = null;
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
            }
        }
        catch (JsonException)
        {
            // A proxy in front of HEC may answer with HTML; the status still says what happened.
        }
        return new HecReply(response.StatusCode, code, text.Length > 200 ? text[..200] : text, ackId, body);
    }

    public override string ToString() => $"HTTP {(int)Status}, code {Code?.ToString() ?? "none"}: {Text}";
}
