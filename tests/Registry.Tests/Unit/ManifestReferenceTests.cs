using Berth.Oci;
using Berth.Registry.Services;

namespace Berth.Registry.Tests.Unit;

/// <summary>The reference of /v2/&lt;name&gt;/manifests/&lt;reference&gt;: a tag or a digest, nothing else.</summary>
public sealed class ManifestReferenceTests
{
    private const string Sha256 = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    [Theory]
    [InlineData("latest")]
    [InlineData("v1.2.3")]
    [InlineData("_x")]
    [InlineData("UPPER-case_1")]
    public void Tag_is_a_tag(string reference)
    {
        var parsed = ManifestReference.Parse(reference);
        Assert.Equal(reference, parsed.Tag);
        Assert.Null(parsed.Digest);
        Assert.Equal(reference, parsed.ToString());
    }

    [Fact]
    public void Tag_of_128_characters_is_a_tag()
    {
        var tag = new string('t', 128);
        Assert.Equal(tag, ManifestReference.Parse(tag).Tag);
    }

    [Fact]
    public void Sha256_digest_is_a_digest()
    {
        var parsed = ManifestReference.Parse(Sha256);
        Assert.Null(parsed.Tag);
        Assert.Equal(Digest.Parse(Sha256), parsed.Digest);
        Assert.Equal(Sha256, parsed.ToString());
    }

    [Fact]
    public void Sha512_digest_is_a_digest()
    {
        var digest = Digest.Compute("abc"u8, Digest.Sha512);
        var parsed = ManifestReference.Parse(digest.ToString());
        Assert.Null(parsed.Tag);
        Assert.Equal(digest, parsed.Digest);
    }

    [Fact]
    public void Tag_that_looks_like_hex_is_still_a_tag()
    {
        // Without the colon it is not a digest, even if it is 64 hex characters.
        var hex = Sha256["sha256:".Length..];
        var parsed = ManifestReference.Parse(hex);
        Assert.Equal(hex, parsed.Tag);
        Assert.Null(parsed.Digest);
    }

    [Theory]
    [InlineData("sha256:abc")]
    [InlineData("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855")]
    [InlineData("md5:d41d8cd98f00b204e9800998ecf8427e")]
    [InlineData("sha256:../../etc")]
    [InlineData(":")]
    [InlineData("latest:")]
    [InlineData(":latest")]
    [InlineData("repo:tag")]
    [InlineData(Sha256 + "\n")]
    public void Malformed_digest_is_digest_invalid(string reference)
    {
        var error = Assert.Throws<RegistryException>(() => ManifestReference.Parse(reference));
        Assert.Equal(ErrorCode.DigestInvalid, error.Code);
        Assert.Equal(400, error.Status);
    }

    [Theory]
    [InlineData("")]
    [InlineData(".hidden")]
    [InlineData("-dash")]
    [InlineData("a/b")]
    [InlineData("a b")]
    [InlineData("tag@sha256")]
    [InlineData("latest\n")]
    public void Malformed_tag_is_manifest_invalid(string reference)
    {
        var error = Assert.Throws<RegistryException>(() => ManifestReference.Parse(reference));
        Assert.Equal(ErrorCode.ManifestInvalid, error.Code);
        Assert.Equal(400, error.Status);
    }

    [Fact]
    public void Tag_of_129_characters_is_manifest_invalid()
    {
        var error = Assert.Throws<RegistryException>(() => ManifestReference.Parse(new string('t', 129)));
        Assert.Equal(ErrorCode.ManifestInvalid, error.Code);
    }

    [Fact]
    public void Error_message_does_not_echo_a_huge_reference()
    {
        var error = Assert.Throws<RegistryException>(() => ManifestReference.Parse(new string('t', 10_000)));
        Assert.True(error.Message.Length < 500, $"message is {error.Message.Length} characters");
        var digestError = Assert.Throws<RegistryException>(() => ManifestReference.Parse("sha256:" + new string('a', 10_000)));
        Assert.True(digestError.Message.Length < 500, $"message is {digestError.Message.Length} characters");
    }
}
