using Berth.Auth.Accounts;

namespace Berth.Auth.Tests;

public sealed class PasswordHasherTests
{
    // A low cost keeps the tests fast; production uses the default.
    private readonly PasswordHasher _hasher = new(iterations: 1000);

    [Fact]
    public void A_hash_verifies_its_password_and_nothing_else()
    {
        var stored = _hasher.Hash("correct horse battery staple");
        Assert.StartsWith("pbkdf2-sha256$1000$", stored);
        Assert.True(_hasher.Verify("correct horse battery staple", stored));
        Assert.False(_hasher.Verify("correct horse battery stapl", stored));
        Assert.False(_hasher.Verify("", stored));
    }

    [Fact]
    public void The_same_password_hashes_differently_each_time()
    {
        Assert.NotEqual(_hasher.Hash("secret"), _hasher.Hash("secret"));
    }

    [Fact]
    public void Weaker_hashes_need_a_rehash()
    {
        var weak = new PasswordHasher(iterations: 10).Hash("secret");
        Assert.True(_hasher.Verify("secret", weak));
        Assert.True(_hasher.NeedsRehash(weak));
        Assert.False(_hasher.NeedsRehash(_hasher.Hash("secret")));
    }

    [Theory]
    [InlineData("")]
    [InlineData("secret")]
    [InlineData("md5$1$abc$def")]
    [InlineData("pbkdf2-sha256$x$AAAA$AAAA")]
    [InlineData("pbkdf2-sha256$0$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAA==")]
    [InlineData("pbkdf2-sha256$1000$not base64$AAAA")]
    public void Malformed_stored_hashes_never_verify(string stored)
    {
        Assert.False(_hasher.Verify("secret", stored));
        Assert.True(_hasher.NeedsRehash(stored));
    }
}
