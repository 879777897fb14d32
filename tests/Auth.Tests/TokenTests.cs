using System.Text;
using Berth.Access;
using Berth.Auth.Tokens;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.Tokens;

namespace Berth.Auth.Tests;

/// <summary>Issue and validate, and every way a token can be wrong.</summary>
public sealed class TokenTests
{
    private const string Issuer = "berth-auth";
    private const string Audience = "berth-registry";
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);

    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero));
    private readonly SigningKeyRing _keys;
    private readonly TokenIssuer _issuer;

    public TokenTests()
    {
        _keys = new SigningKeyRing(_clock);
        _issuer = new TokenIssuer(_keys, _clock, Issuer);
    }

    private TokenValidator Validator(SigningKeyRing? keys = null, string issuer = Issuer, string audience = Audience) =>
        new(() => (keys ?? _keys).VerificationKeys.Select(k => (SecurityKey)k.SecurityKey), _clock, issuer, audience);

    private string IssueFor(string repository, params string[] actions) =>
        _issuer.Issue(new TokenGrant("alice", Audience, [new ResourceScope(ResourceScope.Repository, repository, actions.ToHashSet())]), Lifetime).Token;

    [Fact]
    public async Task A_valid_token_carries_exactly_its_grant()
    {
        var check = await Validator().ValidateAsync(IssueFor("acme/web", "pull", "push"));
        Assert.True(check.IsValid, check.Failure);
        Assert.Equal("alice", check.Grant!.Subject);
        var access = Assert.Single(check.Grant.Access);
        Assert.Equal("repository:acme/web:pull,push", access.ToString());
    }

    [Fact]
    public async Task Expired_tokens_are_refused()
    {
        var token = IssueFor("a", "pull");
        _clock.Advance(Lifetime + TimeSpan.FromMinutes(1));
        Assert.False((await Validator().ValidateAsync(token)).IsValid);
    }

    [Fact]
    public async Task Not_yet_valid_tokens_are_refused()
    {
        // Signed by a clock two minutes ahead: its nbf lies beyond the 30 s skew.
        var ahead = new FakeTimeProvider(_clock.GetUtcNow().AddMinutes(2));
        var token = new TokenIssuer(_keys, ahead, Issuer).Issue(new TokenGrant("alice", Audience, []), Lifetime).Token;
        Assert.False((await Validator().ValidateAsync(token)).IsValid);
    }

    [Fact]
    public async Task Tokens_signed_by_another_key_are_refused()
    {
        var foreign = new SigningKeyRing(_clock);
        var token = new TokenIssuer(foreign, _clock, Issuer).Issue(new TokenGrant("mallory", Audience, []), Lifetime).Token;
        Assert.False((await Validator().ValidateAsync(token)).IsValid);
    }

    [Fact]
    public async Task Alg_none_is_refused()
    {
        var header = Base64UrlEncoder.Encode("""{"alg":"none","typ":"JWT"}""");
        var payload = Base64UrlEncoder.Encode(
            $$"""{"iss":"{{Issuer}}","aud":"{{Audience}}","sub":"mallory","exp":{{_clock.GetUtcNow().AddMinutes(5).ToUnixTimeSeconds()}},"access":[{"type":"repository","name":"a","actions":["push"]}]}""");
        Assert.False((await Validator().ValidateAsync($"{header}.{payload}.")).IsValid);
    }

    [Fact]
    public async Task Wrong_audience_or_issuer_is_refused()
    {
        var token = IssueFor("a", "pull");
        Assert.False((await Validator(audience: "another-registry").ValidateAsync(token)).IsValid);
        Assert.False((await Validator(issuer: "someone-else").ValidateAsync(token)).IsValid);
    }

    [Fact]
    public async Task A_tampered_payload_is_refused()
    {
        var parts = IssueFor("acme/web", "pull").Split('.');
        var payload = Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(parts[1])).Replace("\"pull\"", "\"push\"");
        var tampered = $"{parts[0]}.{Base64UrlEncoder.Encode(payload)}.{parts[2]}";
        Assert.False((await Validator().ValidateAsync(tampered)).IsValid);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not-a-jwt")]
    [InlineData("a.b.c")]
    [InlineData("....")]
    public async Task Garbage_is_refused_without_throwing(string token)
    {
        Assert.False((await Validator().ValidateAsync(token)).IsValid);
    }

    [Fact]
    public async Task After_rotation_old_tokens_verify_until_they_expire_and_then_the_old_key_is_gone()
    {
        var old = IssueFor("a", "pull");
        var oldKeyId = _keys.Active.KeyId;
        _keys.Rotate(Lifetime);
        var fresh = IssueFor("a", "pull");
        Assert.NotEqual(oldKeyId, _keys.Active.KeyId);
        Assert.True((await Validator().ValidateAsync(old)).IsValid);
        Assert.True((await Validator().ValidateAsync(fresh)).IsValid);
        Assert.Contains(oldKeyId, _keys.ToJwks());

        _clock.Advance(Lifetime + TimeSpan.FromSeconds(1));
        Assert.DoesNotContain(oldKeyId, _keys.ToJwks());
        Assert.DoesNotContain(_keys.VerificationKeys, k => k.KeyId == oldKeyId);
    }

    [Fact]
    public void The_jwks_publishes_public_halves_only()
    {
        _ = _keys.Active;
        var jwks = _keys.ToJwks();
        Assert.Contains("\"kty\":\"EC\"", jwks);
        Assert.Contains("\"crv\":\"P-256\"", jwks);
        Assert.DoesNotContain("\"d\"", jwks);
    }

    [Fact]
    public async Task Exported_keys_verify_after_import_into_a_new_ring()
    {
        var token = IssueFor("a", "pull");
        var restored = new SigningKeyRing(_clock);
        restored.Synchronize(_keys.Export(), Lifetime);
        Assert.Equal(_keys.Active.KeyId, restored.Active.KeyId);
        Assert.True((await Validator(restored).ValidateAsync(token)).IsValid);
    }
}
