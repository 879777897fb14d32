using Berth.Oci;

namespace Berth.Registry.Tests.Unit;

/// <summary>Repository name and tag grammar from the OCI distribution spec.</summary>
public sealed class NamesTests
{
    [Theory]
    [InlineData("a")]
    [InlineData("0")]
    [InlineData("library/ubuntu")]
    [InlineData("a/b/c/d/e")]
    [InlineData("a.b")]
    [InlineData("a_b")]
    [InlineData("a__b")]
    [InlineData("a-b")]
    [InlineData("a---b")]
    [InlineData("a.b_c__d-e---f")]
    [InlineData("my-org/my.repo/sub_dir__x")]
    [InlineData("0a/9z")]
    [InlineData("blobs/manifests/tags/uploads")]
    public void Valid_repository_names(string name)
    {
        Assert.True(Names.IsValidRepositoryName(name), name);
    }

    public static TheoryData<string> InvalidRepositoryNames =>
    [
        "",
        "A",
        "Library/ubuntu",
        "library/Ubuntu",
        "UPPER",
        ".a",
        "_a",
        "-a",
        "a.",
        "a_",
        "a-",
        "a__",
        "a..b",
        "a___b",
        "a.-b",
        "a-.b",
        "a._b",
        "a_-b",
        "/a",
        "a/",
        "a//b",
        "/",
        "a/.b",
        "a/b.",
        "a/-b",
        "a/_b",
        "a/../b",
        "..",
        "a b",
        "a\tb",
        "a\\b",
        "a:b",
        "a@b",
        "ü",
        "a\n",
        "a\nb",
        "\na",
        "library/ubuntu\n",
        "a\r\n",
        "a\0",
    ];

    [Theory]
    [MemberData(nameof(InvalidRepositoryNames))]
    public void Invalid_repository_names(string name)
    {
        Assert.False(Names.IsValidRepositoryName(name), name);
    }

    [Fact]
    public void Repository_name_of_255_characters_is_valid()
    {
        var name = new string('a', 255);
        Assert.True(Names.IsValidRepositoryName(name));
        Assert.Equal(Names.MaxRepositoryNameLength, name.Length);
    }

    [Fact]
    public void Repository_name_of_256_characters_is_invalid()
    {
        Assert.False(Names.IsValidRepositoryName(new string('a', 256)));
    }

    [Fact]
    public void Length_limit_counts_the_whole_name_with_slashes()
    {
        // 16 components of "abcdefghijklmno" plus 15 slashes: 255 characters in all.
        var fits = string.Join('/', Enumerable.Repeat("abcdefghijklmno", 16));
        Assert.Equal(255, fits.Length);
        Assert.True(Names.IsValidRepositoryName(fits));
        Assert.False(Names.IsValidRepositoryName(fits + "a"));
        Assert.False(Names.IsValidRepositoryName(fits + "/a"));
    }

    [Theory]
    [InlineData("latest")]
    [InlineData("v1.0.0")]
    [InlineData("1.0")]
    [InlineData("_hidden")]
    [InlineData("UPPER")]
    [InlineData("MixedCase_1.2-rc.3")]
    [InlineData("a")]
    [InlineData("_")]
    [InlineData("0")]
    [InlineData("a.")]
    [InlineData("a-")]
    [InlineData("a__-..--b")]
    [InlineData("sha256-e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    public void Valid_tags(string tag)
    {
        Assert.True(Names.IsValidTag(tag), tag);
    }

    [Theory]
    [InlineData("")]
    [InlineData(".hidden")]
    [InlineData("-flag")]
    [InlineData("a/b")]
    [InlineData("a:b")]
    [InlineData("a@b")]
    [InlineData("a b")]
    [InlineData("a+b")]
    [InlineData("ü")]
    [InlineData("..")]
    [InlineData("latest\n")]
    [InlineData("latest\r\n")]
    [InlineData("\nlatest")]
    [InlineData("late\nst")]
    [InlineData("latest\0")]
    public void Invalid_tags(string tag)
    {
        Assert.False(Names.IsValidTag(tag), tag);
    }

    [Fact]
    public void Tag_of_128_characters_is_valid()
    {
        Assert.True(Names.IsValidTag(new string('a', 128)));
        Assert.True(Names.IsValidTag("_" + new string('-', 127)));
    }

    [Fact]
    public void Tag_of_129_characters_is_invalid()
    {
        Assert.False(Names.IsValidTag(new string('a', 129)));
        Assert.False(Names.IsValidTag("_" + new string('-', 128)));
    }
}
