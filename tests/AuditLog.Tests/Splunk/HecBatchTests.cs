using System.Buffers;
using System.Text;
using System.Text.Json;
using Berth.AuditLog.Data;
using Berth.AuditLog.Shipping.Splunk;

namespace Berth.AuditLog.Tests.Splunk;

/// <summary>
/// A HEC batch is one JSON event a line, each with HEC's metadata and the entry under
/// "event". Metadata that is a JSON object goes as it is; anything else stored in a row
/// goes as a string, so one bad row never blocks shipping.
/// </summary>
public sealed class HecBatchTests
{
    [Fact]
    public void Each_entry_is_one_line_with_its_fields_and_its_metadata_object()
    {
        var entries = new[] { Entry(1, """{"digest":"sha256:ab","tag":"v1"}"""), Entry(2, """ {"nested":{"a":[1,2]}}""") };

        var lines = Lines(entries, new SplunkSinkOptions { Index = "audit" });

        Assert.Equal(2, lines.Count);
        var first = lines[0].RootElement;
        Assert.Equal(1_795_964_726.123m, first.GetProperty("time").GetDecimal());
        Assert.Equal(("berth-host", "berth", "berth:audit", "audit"),
            (first.GetProperty("host").GetString(), first.GetProperty("source").GetString(), first.GetProperty("sourcetype").GetString(), first.GetProperty("index").GetString()));
        var entry = first.GetProperty("event");
        Assert.Equal(entries[0].EntryId, entry.GetProperty("id").GetGuid());
        Assert.Equal(1, entry.GetProperty("sequence").GetInt64());
        Assert.Equal(("pull_repo", "acme", "acme/app", "alice", "user"),
            (entry.GetProperty("kind").GetString(), entry.GetProperty("namespace").GetString(), entry.GetProperty("repository").GetString(),
             entry.GetProperty("performer").GetString(), entry.GetProperty("performer_kind").GetString()));
        Assert.Equal("v1", entry.GetProperty("metadata").GetProperty("tag").GetString());
        Assert.Equal(2, lines[1].RootElement.GetProperty("event").GetProperty("metadata").GetProperty("nested").GetProperty("a")[1].GetInt32());
    }

    [Theory]
    [InlineData("[1,2]")]
    [InlineData("{not json")]
    [InlineData("{\"a\":1} trailing")]
    [InlineData("")]
    [InlineData("\"text\"")]
    public void Metadata_that_is_not_a_json_object_goes_as_a_string_and_the_batch_stays_valid(string metadata)
    {
        var lines = Lines([Entry(1, metadata), Entry(2, """{"ok":true}""")], new SplunkSinkOptions());

        Assert.Equal(metadata, lines[0].RootElement.GetProperty("event").GetProperty("metadata").GetProperty("unparsed").GetString());
        Assert.True(lines[1].RootElement.GetProperty("event").GetProperty("metadata").GetProperty("ok").GetBoolean());
    }

    private static List<JsonDocument> Lines(IReadOnlyList<AuditEntry> entries, SplunkSinkOptions options)
    {
        var text = Encoding.UTF8.GetString(HecBatch.Serialize(new ArrayBufferWriter<byte>(), entries, options, "berth-host").Span);
        Assert.EndsWith("\n", text);
        return [.. text.TrimEnd('\n').Split('\n').Select(line => JsonDocument.Parse(line))];
    }

    private static AuditEntry Entry(long id, string metadata) => new()
    {
        Id = id,
        EntryId = Guid.NewGuid(),
        Kind = "pull_repo",
        Namespace = "acme",
        Repository = "acme/app",
        Performer = "alice",
        PerformerKind = "user",
        Address = "192.0.2.1",
        UserAgent = "podman/5",
        RequestId = "trace-1",
        OccurredAt = DateTimeOffset.FromUnixTimeMilliseconds(1_795_964_726_123).UtcDateTime,
        Metadata = metadata,
        SourceEvent = "test",
    };
}
