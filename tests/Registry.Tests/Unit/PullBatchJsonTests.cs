using System.Text;
using System.Text.Json;
using Berth.Contracts;
using Berth.Contracts.Registry;

namespace Berth.Registry.Tests.Unit;

/// <summary>
/// A batch of pulls on the wire: each distinct source once and each pull as a short row,
/// read back field for field under both the outbox's and MassTransit's naming; the
/// full-record form earlier versions wrote still reads; malformed rows fail with a
/// message that says what was wrong.
/// </summary>
public sealed class PullBatchJsonTests
{
    private static readonly EventActor Alice = new("alice", "user", "10.0.0.7", "podman/5.0");
    private static readonly EventActor Robot = new("acme+ci", "robot", "10.0.0.9", null);
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 9, 30, 0, TimeSpan.Zero);

    public static TheoryData<string> Namings() => ["web", "default"];

    private static JsonSerializerOptions Options(string naming) =>
        naming == "web" ? new JsonSerializerOptions(JsonSerializerDefaults.Web) : new JsonSerializerOptions();

    private static List<ManifestPulled> MixedPulls() =>
    [
        .. Enumerable.Range(0, 300).Select(i => new ManifestPulled(
            i % 3 == 0 ? "acme/app" : "acme/tools",
            i % 2 == 0 ? "sha256:" + new string('a', 64) : "sha256:" + new string('b', 64),
            "application/vnd.oci.image.manifest.v1+json",
            i % 5 == 0 ? null : "v1")
        {
            EventId = EventIds.New(Start.AddMilliseconds(i)),
            OccurredAt = Start.AddTicks(i * 12_345),
            Actor = (i % 4 == 0 ? Robot : Alice) with { RequestId = i % 7 == 0 ? null : $"0HN8:{i:D8}" },
        }),
    ];

    [Theory]
    [MemberData(nameof(Namings))]
    public void A_batch_reads_back_field_for_field(string naming)
    {
        var pulls = MixedPulls();
        var batch = new ManifestsPulled(pulls) { Actor = EventActor.System };

        var json = JsonSerializer.Serialize(batch, Options(naming));
        var read = JsonSerializer.Deserialize<ManifestsPulled>(json, Options(naming))!;

        Assert.Equal(batch.EventId, read.EventId);
        Assert.Equal(pulls, read.Pulls);
        Assert.All(read.Pulls, p => Assert.Equal(TimeSpan.Zero, p.OccurredAt.Offset));
    }

    [Fact]
    public void Each_source_is_written_once_and_a_pull_is_a_short_row()
    {
        var pulls = MixedPulls();
        var compact = Encoding.UTF8.GetByteCount(JsonSerializer.Serialize(new ManifestsPulled(pulls) { Actor = EventActor.System }));
        var asRecords = Encoding.UTF8.GetByteCount(JsonSerializer.Serialize(pulls.ToList()));

        // 2 repositories x 2 digests x 2 tags x 2 actors: at most 16 sources, each digest written once a source.
        using var document = JsonDocument.Parse(JsonSerializer.Serialize(new ManifestsPulled(pulls) { Actor = EventActor.System }));
        var wire = document.RootElement.GetProperty("Pulls");
        Assert.InRange(wire.GetProperty("sources").GetArrayLength(), 2, 16);
        Assert.Equal(300, wire.GetProperty("pulls").GetArrayLength());
        Assert.True(compact * 4 < asRecords, $"compact {compact} bytes against {asRecords} as records");
    }

    [Fact]
    public void The_full_record_form_is_still_read()
    {
        var pulls = MixedPulls().Take(20).ToList();
        var options = Options("web");
        var old = JsonSerializer.Serialize(new { eventId = Guid.NewGuid(), occurredAt = Start, actor = EventActor.System, pulls }, options);

        var read = JsonSerializer.Deserialize<ManifestsPulled>(old, options)!;

        Assert.Equal(pulls, read.Pulls);
    }

    [Fact]
    public void An_empty_batch_round_trips()
    {
        var json = JsonSerializer.Serialize(new ManifestsPulled([]) { Actor = EventActor.System });
        Assert.Empty(JsonSerializer.Deserialize<ManifestsPulled>(json)!.Pulls);
    }

    [Theory]
    [InlineData("""{"sources":[],"pulls":[[0,"AAAAAAAAAAAAAAAAAAAAAA==",1,null]]}""", "source 0 of 0")]
    [InlineData("""{"pulls":[]}""", "sources before its pulls")]
    [InlineData("""{"sources":[{"Repository":"a/b","Digest":"d","MediaType":"m","Tag":null,"Actor":{"Name":"n","Kind":"k"}}],"pulls":[[0,"AAAA",1,null]]}""", "3 bytes, not 16")]
    [InlineData("""{"sources":[{"Repository":"a/b","Digest":"d","MediaType":"m","Tag":null,"Actor":{"Name":"n","Kind":"k"}}],"pulls":[[0,"AAAAAAAAAAAAAAAAAAAAAA==",1,null,"extra"]]}""", "end of a pull's four values")]
    [InlineData("""["not","an","object"]""", "")]
    public void A_malformed_batch_fails_saying_what_is_wrong(string pullsJson, string expected)
    {
        var json = $$"""{"EventId":"{{Guid.NewGuid()}}","OccurredAt":"2026-12-01T00:00:00Z","Actor":{"Name":"system","Kind":"system"},"Pulls":{{pullsJson}}}""";

        var error = Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize<ManifestsPulled>(json));

        Assert.Contains(expected, error.Message);
    }
}
