using Berth.Contracts;

namespace Berth.Registry.Tests.Unit;

/// <summary>Event ids are RFC 9562 version 7 UUIDs: unique, and ordered by their millisecond as text and as bytes.</summary>
public sealed class EventIdsTests
{
    [Fact]
    public void An_id_is_a_version_7_uuid_carrying_its_millisecond()
    {
        var at = new DateTimeOffset(2026, 11, 29, 14, 30, 5, 123, TimeSpan.Zero);

        var id = EventIds.New(at);

        Assert.Equal(7, id.Version);
        Assert.Equal(0b10, id.Variant >> 2);
        var bytes = id.ToByteArray(bigEndian: true);
        var milliseconds = bytes[..6].Aggregate(0L, (value, b) => (value << 8) | b);
        Assert.Equal(at.ToUnixTimeMilliseconds(), milliseconds);
    }

    [Fact]
    public void Ids_of_later_milliseconds_sort_after_earlier_ones_as_text_and_as_bytes()
    {
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var ids = Enumerable.Range(0, 2000).Select(i => EventIds.New(start.AddMilliseconds(i))).ToList();

        // SQLite keeps a Guid as upper-case text, PostgreSQL as uuid bytes: both orders must follow time.
        Assert.Equal(ids, ids.OrderBy(id => id.ToString().ToUpperInvariant(), StringComparer.Ordinal));
        Assert.Equal(ids, ids.OrderBy(id => Convert.ToHexString(id.ToByteArray(bigEndian: true)), StringComparer.Ordinal));
    }

    [Fact]
    public void Ids_made_in_the_same_millisecond_on_many_threads_are_all_different()
    {
        var at = DateTimeOffset.UtcNow;
        var ids = new System.Collections.Concurrent.ConcurrentBag<Guid>();

        Parallel.For(0, 4, _ =>
        {
            for (var i = 0; i < 50_000; i++) ids.Add(EventIds.New(at));
        });

        Assert.Equal(200_000, ids.Distinct().Count());
    }
}
