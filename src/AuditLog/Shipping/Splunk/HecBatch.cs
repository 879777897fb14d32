using System.Buffers;
using System.Text.Json;
using Berth.AuditLog.Data;

namespace Berth.AuditLog.Shipping.Splunk;

/// <summary>
/// Writes entries in HEC's batch format: one JSON event object per entry, newline
/// separated, each with the event metadata (time, host, source, sourcetype, index)
/// and the entry's fields under "event".
/// </summary>
internal static class HecBatch
{
    /// <summary>
    /// Writes <paramref name="batch"/> into <paramref name="buffer"/> (after what it holds) and returns what it holds.
    /// The caller keeps the buffer for the next batch: a batch of pulls is over a megabyte,
    /// and a new buffer each time is a large-object allocation that soon costs a full collection.
    /// </summary>
    public static ReadOnlyMemory<byte> Serialize(ArrayBufferWriter<byte> buffer, IReadOnlyList<AuditEntry> batch, SplunkSinkOptions options, string host)
    {
        // One writer for the batch, reset after each event: its events are separate JSON texts.
        using var json = new Utf8JsonWriter(buffer);
        foreach (var entry in batch)
        {
            WriteEvent(json, entry, options, host);
            json.Flush();
            buffer.Write("\n"u8);
            json.Reset(buffer);
        }
        return buffer.WrittenMemory;
    }

    private static void WriteEvent(Utf8JsonWriter json, AuditEntry entry, SplunkSinkOptions options, string host)
    {
        json.WriteStartObject();
        json.WriteNumber("time", EpochSeconds(entry.OccurredAt));
        json.WriteString("host", host);
        json.WriteString("source", options.Source);
        json.WriteString("sourcetype", options.SourceType);
        if (!string.IsNullOrEmpty(options.Index)) json.WriteString("index", options.Index);
        json.WriteStartObject("event");
        // The entry id travels with the event: HEC has no document ids, so a batch sent
        // twice (an ack that timed out) is told apart in searches with "| dedup id".
        json.WriteString("id", entry.EntryId);
        json.WriteNumber("sequence", entry.Id);
        json.WriteString("kind", entry.Kind);
        json.WriteString("namespace", entry.Namespace);
        json.WriteString("repository", entry.Repository);
        json.WriteString("performer", entry.Performer);
        json.WriteString("performer_kind", entry.PerformerKind);
        json.WriteString("address", entry.Address);
        json.WriteString("user_agent", entry.UserAgent);
        json.WriteString("request_id", entry.RequestId);
        json.WritePropertyName("metadata");
        WriteMetadata(json, entry.Metadata);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>Seconds since the epoch with milliseconds, as HEC's "time" expects.</summary>
    private static decimal EpochSeconds(DateTime occurredAt)
    {
        // Read back from SQLite the kind is Unspecified; the log stores UTC.
        var utc = DateTime.SpecifyKind(occurredAt, DateTimeKind.Utc);
        return new DateTimeOffset(utc).ToUnixTimeMilliseconds() / 1000m;
    }

    /// <summary>
    /// The metadata object as it is (checked, not parsed into a document); should a row ever
    /// hold something that is not a JSON object, it goes as a string rather than failing
    /// every attempt and blocking the log.
    /// </summary>
    private static void WriteMetadata(Utf8JsonWriter json, string metadata)
    {
        if (metadata.AsSpan().TrimStart().StartsWith("{"))
        {
            try
            {
                json.WriteRawValue(metadata);
                return;
            }
            catch (JsonException)
            {
            }
        }
        json.WriteStartObject();
        json.WriteString("unparsed", metadata);
        json.WriteEndObject();
    }
}
