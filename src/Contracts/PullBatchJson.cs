using System.Text.Json;
using System.Text.Json.Serialization;

namespace Berth.Contracts.Registry;

/// <summary>
/// The wire form of a <see cref="ManifestsPulled"/> batch's pulls. The pulls of a batch
/// repeat the same few repositories, digests, media types, tags and clients thousands of
/// times, so each distinct combination is written once as a source, and each pull as an
/// array of four values: its source's index, its event id (base64), its time (UTC ticks)
/// and its request id. 5,000 pulls of one client and manifest, each with a 22-character
/// request id, are 376 KB this way (75 bytes a pull) and were 2.06 MB as a list of full
/// records: JSON that the registry writes, the broker stores and the audit log parses.
/// Times travel as UTC instants (pulls are stamped in UTC). The full-record list, which
/// earlier versions wrote, is still read.
/// </summary>
public sealed class PullBatchJson : JsonConverter<IReadOnlyList<ManifestPulled>>
{
    /// <summary>What pulls of one source share: everything but their id, time and request id.</summary>
    private sealed record PullSource(string Repository, string Digest, string MediaType, string? Tag, EventActor Actor);

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<ManifestPulled> pulls, JsonSerializerOptions options)
    {
        var sources = new List<PullSource>();
        var indexes = new Dictionary<PullSource, int>();
        var sourceOf = new int[pulls.Count];
        for (var i = 0; i < pulls.Count; i++)
        {
            var pull = pulls[i];
            var source = new PullSource(pull.Repository, pull.Digest, pull.MediaType, pull.Tag, pull.Actor with { RequestId = null });
            if (!indexes.TryGetValue(source, out var index))
            {
                indexes.Add(source, index = sources.Count);
                sources.Add(source);
            }
            sourceOf[i] = index;
        }
        writer.WriteStartObject();
        writer.WritePropertyName("sources");
        JsonSerializer.Serialize(writer, sources, options);
        writer.WriteStartArray("pulls");
        Span<byte> id = stackalloc byte[16];
        for (var i = 0; i < pulls.Count; i++)
        {
            var pull = pulls[i];
            writer.WriteStartArray();
            writer.WriteNumberValue(sourceOf[i]);
            pull.EventId.TryWriteBytes(id, bigEndian: true, out _);
            writer.WriteBase64StringValue(id);
            writer.WriteNumberValue(pull.OccurredAt.UtcTicks);
            if (pull.Actor.RequestId is { } requestId) writer.WriteStringValue(requestId);
            else writer.WriteNullValue();
            writer.WriteEndArray();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    public override IReadOnlyList<ManifestPulled> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.StartArray)
            return JsonSerializer.Deserialize<List<ManifestPulled>>(ref reader, options) ?? [];
        Expect(ref reader, JsonTokenType.StartObject, "an object of sources and pulls");
        PullSource[]? sources = null;
        List<ManifestPulled>? pulls = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            Expect(ref reader, JsonTokenType.PropertyName, "a property name");
            var name = reader.GetString();
            reader.Read();
            switch (name)
            {
                case "sources":
                    sources = JsonSerializer.Deserialize<PullSource[]>(ref reader, options);
                    break;
                case "pulls":
                    pulls = ReadPulls(ref reader, sources ?? throw new JsonException("a batch of pulls must give its sources before its pulls"));
                    break;
                default:
                    // A later version's addition: skipped, as events only ever gain optional fields.
                    reader.Skip();
                    break;
            }
        }
        return pulls ?? [];
    }

    private static List<ManifestPulled> ReadPulls(ref Utf8JsonReader reader, PullSource[] sources)
    {
        Expect(ref reader, JsonTokenType.StartArray, "an array of pulls");
        var pulls = new List<ManifestPulled>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            Expect(ref reader, JsonTokenType.StartArray, "a pull as [source, id, ticks, request id]");
            reader.Read();
            var index = reader.GetInt32();
            if (index < 0 || index >= sources.Length) throw new JsonException($"a pull names source {index} of {sources.Length}");
            var source = sources[index];
            reader.Read();
            var id = reader.GetBytesFromBase64();
            if (id.Length != 16) throw new JsonException($"a pull's id is {id.Length} bytes, not 16");
            reader.Read();
            var ticks = reader.GetInt64();
            reader.Read();
            var requestId = reader.TokenType == JsonTokenType.Null ? null : reader.GetString();
            reader.Read();
            Expect(ref reader, JsonTokenType.EndArray, "the end of a pull's four values");
            pulls.Add(new ManifestPulled(source.Repository, source.Digest, source.MediaType, source.Tag)
            {
                EventId = new Guid(id, bigEndian: true),
                OccurredAt = new DateTimeOffset(ticks, TimeSpan.Zero),
                Actor = requestId is null ? source.Actor : source.Actor with { RequestId = requestId },
            });
        }
        return pulls;
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType token, string what)
    {
        if (reader.TokenType != token) throw new JsonException($"expected {what}, found {reader.TokenType}");
    }
}
