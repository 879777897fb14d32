using System.Text;
using Berth.Oci;

namespace Berth.Registry.Tests.Unit;

/// <summary>Digest grammar (sha256/sha512, lower-case hex of exact length) and hashing against published vectors.</summary>
public sealed class DigestTests
{
    private const string EmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    private const string AbcSha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    // FIPS 180-2, appendix C.1: SHA-512("abc").
    private const string AbcSha512 =
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a" +
        "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";

    [Fact]
    public void Parses_sha256()
    {
        Assert.True(Digest.TryParse($"sha256:{AbcSha256}", out var digest));
        Assert.Equal(Digest.Sha256, digest.Value.Algorithm);
        Assert.Equal(AbcSha256, digest.Value.Hex);
        Assert.Equal($"sha256:{AbcSha256}", digest.Value.ToString());
    }

    [Fact]
    public void Parses_sha512()
    {
        var digest = Digest.Parse($"sha512:{AbcSha512}");
        Assert.Equal(Digest.Sha512, digest.Algorithm);
        Assert.Equal(AbcSha512, digest.Hex);
        Assert.Equal($"sha512:{AbcSha512}", digest.ToString());
    }

    public static TheoryData<string?> InvalidDigests =>
    [
        null,
        "",
        ":",
        "sha256",
        "sha256:",
        AbcSha256,
        ":" + AbcSha256,
        "sha256" + AbcSha256,
        "sha256:" + AbcSha256.ToUpperInvariant(),
        "sha256:" + AbcSha256[..63] + "A",
        "SHA256:" + AbcSha256,
        "sha256:" + AbcSha256[..63],
        "sha256:" + AbcSha256 + "0",
        "sha256:" + AbcSha512,
        "sha512:" + AbcSha256,
        "sha384:" + new string('a', 96),
        "md5:" + new string('a', 32),
        "blake3:" + AbcSha256,
        "sha256+b64u:" + AbcSha256,
        " sha256:" + AbcSha256,
        "sha256:" + AbcSha256 + " ",
        "sha256:" + AbcSha256 + "\n",
        "sha256: " + AbcSha256[1..],
        "sha256:" + AbcSha256[..62] + "0g",
        "sha256:../../etc",
        "sha256:../../etc/passwd",
        "sha256:" + "../" + AbcSha256[3..],
        "sha256:" + AbcSha256[..32] + "/" + AbcSha256[33..],
        "sha256:" + AbcSha256[..32] + "\\" + AbcSha256[33..],
        "sha256:" + AbcSha256[..32] + "\0" + AbcSha256[33..],
        "sha256:sha256:" + AbcSha256[7..],
        "../sha256:" + AbcSha256,
    ];

    [Theory]
    [MemberData(nameof(InvalidDigests))]
    public void Rejects_invalid_digest(string? value)
    {
        Assert.False(Digest.TryParse(value, out var digest));
        Assert.Null(digest);
    }

    [Theory]
    [MemberData(nameof(InvalidDigests))]
    public void Parse_throws_FormatException_for_invalid_digest(string? value)
    {
        if (value is null) return;
        Assert.Throws<FormatException>(() => Digest.Parse(value));
    }

    [Fact]
    public void Compute_of_empty_input_is_the_known_sha256()
    {
        var digest = Digest.Compute([]);
        Assert.Equal(Digest.Sha256, digest.Algorithm);
        Assert.Equal(EmptySha256, digest.Hex);
    }

    [Fact]
    public void Compute_of_abc_is_the_known_sha256()
    {
        Assert.Equal($"sha256:{AbcSha256}", Digest.Compute("abc"u8).ToString());
    }

    [Fact]
    public void Compute_of_abc_is_the_published_sha512_vector()
    {
        var digest = Digest.Compute("abc"u8, Digest.Sha512);
        Assert.Equal(Digest.Sha512, digest.Algorithm);
        Assert.Equal(AbcSha512, digest.Hex);
    }

    [Fact]
    public void Compute_output_always_parses_back()
    {
        foreach (var algorithm in new[] { Digest.Sha256, Digest.Sha512 })
        {
            var digest = Digest.Compute("some content"u8, algorithm);
            Assert.Equal(digest, Digest.Parse(digest.ToString()));
        }
    }

    [Fact]
    public void Compute_refuses_an_unknown_algorithm()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Digest.Compute("abc"u8, "md5"));
    }

    [Theory]
    [InlineData(Digest.Sha256)]
    [InlineData(Digest.Sha512)]
    public void Incremental_hash_in_pieces_matches_Compute(string algorithm)
    {
        var content = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("0123456789abcdef", 1000)));
        using var hasher = Digest.CreateHasher(algorithm);
        for (var offset = 0; offset < content.Length; offset += 777)
            hasher.AppendData(content, offset, Math.Min(777, content.Length - offset));
        var digest = Digest.FromHash(algorithm, hasher.GetHashAndReset());
        Assert.Equal(Digest.Compute(content, algorithm), digest);
    }

    [Fact]
    public void CreateHasher_of_a_digest_uses_its_algorithm()
    {
        var expected = Digest.Compute("abc"u8, Digest.Sha512);
        using var hasher = expected.CreateHasher();
        hasher.AppendData("abc"u8);
        var actual = Digest.FromHash(expected.Algorithm, hasher.GetHashAndReset());
        Assert.Equal(expected, actual);
        Assert.Equal(AbcSha512, actual.Hex);
    }

    [Fact]
    public void FromHash_writes_lower_case_hex()
    {
        var digest = Digest.FromHash(Digest.Sha256, Convert.FromHexString(AbcSha256.ToUpperInvariant()));
        Assert.Equal(AbcSha256, digest.Hex);
        Assert.True(Digest.TryParse(digest.ToString(), out _));
    }

    [Fact]
    public void CreateHasher_refuses_an_unknown_algorithm()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Digest.CreateHasher("sha1"));
    }

    [Fact]
    public void Digests_compare_by_value()
    {
        Assert.Equal(Digest.Parse($"sha256:{AbcSha256}"), Digest.Compute("abc"u8));
        Assert.NotEqual(Digest.Parse($"sha256:{EmptySha256}"), Digest.Compute("abc"u8));
    }
}
