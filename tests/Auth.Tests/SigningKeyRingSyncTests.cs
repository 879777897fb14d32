using Berth.Access;
using Berth.Auth.Tokens;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Berth.Auth.Tests;

/// <summary>
/// Two rings standing for two Auth instances on one database: what one saves (its
/// export), the other synchronizes with, and both must end up signing with the
/// same key while every token either signed keeps verifying until it expires.
/// </summary>
public sealed class SigningKeyRingSyncTests
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero));

    private string Sign(SigningKeyRing ring) =>
        new TokenIssuer(ring, _clock, "berth-auth").Issue(new TokenGrant("alice", "berth", []), Lifetime).Token;

    private Task<TokenCheck> VerifyAsync(SigningKeyRing ring, string token) =>
        new TokenValidator(() => ring.VerificationKeys.Select(k => (SecurityKey)k.SecurityKey), _clock, "berth-auth", "berth").ValidateAsync(token);

    private (SigningKeyRing A, SigningKeyRing B) TwoInstances()
    {
        var a = new SigningKeyRing(_clock);
        _ = a.Active;
        var b = new SigningKeyRing(_clock);
        b.Synchronize(a.Export(), Lifetime);
        return (a, b);
    }

    [Fact]
    public void Synchronizing_again_with_the_same_keys_changes_nothing_and_duplicates_nothing()
    {
        var (a, b) = TwoInstances();
        a.Rotate(Lifetime);
        Assert.True(b.Synchronize(a.Export(), Lifetime));
        Assert.False(b.Synchronize(a.Export(), Lifetime));
        Assert.False(b.Synchronize(a.Export(), Lifetime));
        Assert.Equal(2, b.VerificationKeys.Count);
        Assert.Equal(2, b.VerificationKeys.Select(k => k.KeyId).Distinct().Count());
        Assert.Equal(a.Export().Select(k => (k.KeyId, k.VerifiesUntil)).Order(), b.Export().Select(k => (k.KeyId, k.VerifiesUntil)).Order());
    }

    [Fact]
    public async Task After_a_rotation_elsewhere_the_new_key_signs_here_and_the_old_one_still_verifies()
    {
        var (a, b) = TwoInstances();
        var old = b.Active.KeyId;
        var signedBefore = Sign(b);
        var rotated = a.Rotate(Lifetime).KeyId;
        _clock.Advance(TimeSpan.FromSeconds(10));

        Assert.True(b.Synchronize(a.Export(), Lifetime));

        Assert.Equal(rotated, b.Active.KeyId);
        Assert.Equal(rotated, new JsonWebToken(Sign(b)).Kid);
        Assert.True((await VerifyAsync(b, signedBefore)).IsValid);
        // b signed with the old key until now: it verifies a full token lifetime from here, not from a's rotation.
        var retired = Assert.Single(b.Export(), k => k.KeyId == old);
        Assert.Equal(_clock.GetUtcNow() + Lifetime, retired.VerifiesUntil);
        // ...and a, reading that back, keeps it as long.
        a.Synchronize(b.Export(), Lifetime);
        Assert.Equal(retired.VerifiesUntil, Assert.Single(a.Export(), k => k.KeyId == old).VerifiesUntil);
    }

    [Fact]
    public void Rotations_on_two_instances_at_once_end_with_both_signing_with_the_newer_key()
    {
        var (a, b) = TwoInstances();
        var fromA = a.Rotate(Lifetime);
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        var fromB = b.Rotate(Lifetime);

        a.Synchronize(b.Export(), Lifetime);
        b.Synchronize(a.Export(), Lifetime);

        Assert.Equal(fromB.KeyId, a.Active.KeyId);
        Assert.Equal(fromB.KeyId, b.Active.KeyId);
        // The loser signed a's tokens meanwhile: it verifies on both until they expire.
        Assert.Contains(a.VerificationKeys, k => k.KeyId == fromA.KeyId && k.VerifiesUntil is not null);
        Assert.Contains(b.VerificationKeys, k => k.KeyId == fromA.KeyId && k.VerifiesUntil is not null);
    }

    [Fact]
    public void A_stale_read_does_not_bring_a_retired_key_back()
    {
        var (a, b) = TwoInstances();
        var before = b.Export();
        var rotated = b.Rotate(Lifetime);
        // Read from the database just before the rotation was saved.
        b.Synchronize(before, Lifetime);
        Assert.Equal(rotated.KeyId, b.Active.KeyId);
        Assert.Equal(2, b.VerificationKeys.Count);
        Assert.Single(b.VerificationKeys, k => k.VerifiesUntil is null);
    }

    [Fact]
    public void Keys_whose_grace_is_over_are_not_imported_and_are_dropped()
    {
        var (a, b) = TwoInstances();
        var old = a.Active.KeyId;
        a.Rotate(Lifetime);
        var saved = a.Export();
        b.Synchronize(saved, Lifetime);
        Assert.Contains(b.VerificationKeys, k => k.KeyId == old);

        _clock.Advance(Lifetime + TimeSpan.FromMinutes(1));
        var fresh = new SigningKeyRing(_clock);
        fresh.Synchronize(saved, Lifetime);
        Assert.DoesNotContain(fresh.VerificationKeys, k => k.KeyId == old);
        Assert.True(b.Synchronize(saved, Lifetime));
        Assert.DoesNotContain(b.VerificationKeys, k => k.KeyId == old);
        Assert.DoesNotContain(old, b.ToJwks());
    }
}
