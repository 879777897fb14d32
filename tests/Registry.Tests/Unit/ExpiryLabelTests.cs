using System.Text;
using Berth.Oci;
using Berth.Registry.Services;

namespace Berth.Registry.Tests.Unit;

public sealed class ExpiryLabelTests
{
    [Theory]
    [InlineData("90s", 90)]
    [InlineData("30m", 1800)]
    [InlineData("12h", 43200)]
    [InlineData("1d", 86400)]
    [InlineData("2w", 1209600)]
    [InlineData(" 3h ", 10800)]
    public void Durations_parse(string value, int seconds) => Assert.Equal(TimeSpan.FromSeconds(seconds), ExpiryLabel.Parse(value));

    [Theory]
    [InlineData("")]
    [InlineData("h")]
    [InlineData("0d")]
    [InlineData("-1d")]
    [InlineData("1y")]
    [InlineData("1.5h")]
    [InlineData("two weeks")]
    [InlineData("99999999999d")]
    public void Anything_else_is_not_a_duration(string value) => Assert.Null(ExpiryLabel.Parse(value));

    [Fact]
    public void The_label_is_read_from_the_image_config_and_a_config_without_it_has_none()
    {
        Assert.Equal(TimeSpan.FromDays(14), ExpiryLabel.FromConfig(Encoding.UTF8.GetBytes("""{"config":{"Labels":{"quay.expires-after":"2w","other":"x"}}}""")));
        Assert.Null(ExpiryLabel.FromConfig(Encoding.UTF8.GetBytes("""{"config":{"Labels":{"other":"x"}}}""")));
        Assert.Null(ExpiryLabel.FromConfig(Encoding.UTF8.GetBytes("""{"config":{"Labels":null}}""")));
        Assert.Null(ExpiryLabel.FromConfig(Encoding.UTF8.GetBytes("""{"architecture":"amd64"}""")));
        Assert.Null(ExpiryLabel.FromConfig(Encoding.UTF8.GetBytes("not json at all")));
        Assert.Null(ExpiryLabel.FromConfig(Encoding.UTF8.GetBytes("[]")));
    }

    [Fact]
    public void A_malformed_label_is_refused_with_the_reason()
    {
        var error = Assert.Throws<RegistryException>(() => ExpiryLabel.FromConfig(Encoding.UTF8.GetBytes("""{"config":{"Labels":{"quay.expires-after":"soon"}}}""")));
        Assert.Equal("MANIFEST_INVALID", error.Code.Code);
        Assert.Contains("quay.expires-after='soon'", error.Message);
    }
}
