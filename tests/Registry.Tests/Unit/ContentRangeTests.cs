using Berth.Registry.Services;

namespace Berth.Registry.Tests.Unit;

/// <summary>The Content-Range of a PATCH chunk: inclusive "start-end", tolerating the RFC 9110 "bytes " form.</summary>
public sealed class ContentRangeTests
{
    [Theory]
    [InlineData("0-0", 0, 0)]
    [InlineData("0-99", 0, 99)]
    [InlineData("100-199", 100, 199)]
    [InlineData("5-5", 5, 5)]
    [InlineData(" 0-99 ", 0, 99)]
    [InlineData("bytes 0-99", 0, 99)]
    [InlineData("bytes=0-99", 0, 99)]
    [InlineData("Bytes 0-99", 0, 99)]
    [InlineData("BYTES 10-19", 10, 19)]
    [InlineData("bytes 0-99/100", 0, 99)]
    [InlineData("bytes 0-99/*", 0, 99)]
    [InlineData("0-99/100", 0, 99)]
    [InlineData("1048576-2097151", 1048576, 2097151)]
    [InlineData("4294967296-8589934591", 4294967296, 8589934591)]
    public void Parses_valid_ranges(string value, long start, long end)
    {
        Assert.True(ContentRange.TryParse(value, out var range));
        Assert.Equal(new ContentRange(start, end), range);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("-")]
    [InlineData("0")]
    [InlineData("0-")]
    [InlineData("-99")]
    [InlineData("bytes -99")]
    [InlineData("99-0")]
    [InlineData("10-9")]
    [InlineData("a-b")]
    [InlineData("0x0-0x10")]
    [InlineData("+0-99")]
    [InlineData("0-+99")]
    [InlineData("-1-5")]
    [InlineData("0--5")]
    [InlineData("0-9-10")]
    [InlineData("0 - 99")]
    [InlineData("1.5-2")]
    [InlineData("1,000-2,000")]
    [InlineData("bytes")]
    [InlineData("bytes */100")]
    [InlineData("items 0-99")]
    [InlineData("0-99999999999999999999")]
    [InlineData("99999999999999999999-99999999999999999999")]
    [InlineData("/0-99")]
    public void Rejects_invalid_ranges(string? value)
    {
        Assert.False(ContentRange.TryParse(value, out var range));
        Assert.Equal(default, range);
    }

    [Theory]
    [InlineData(0, 0, 1)]
    [InlineData(0, 99, 100)]
    [InlineData(100, 199, 100)]
    [InlineData(7, 7, 1)]
    public void Length_is_inclusive(long start, long end, long length)
    {
        Assert.Equal(length, new ContentRange(start, end).Length);
    }

    [Fact]
    public void Parsed_length_matches_the_chunk_size()
    {
        Assert.True(ContentRange.TryParse("1024-2047", out var range));
        Assert.Equal(1024, range.Length);
    }
}
