using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Berth.Access;
using Berth.Auth.Data;
using Berth.Auth.Ldap;
using Berth.Contracts;
using Berth.Contracts.Accounts;
using Berth.Data.Outbox;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Berth.Auth.Accounts;

/// <summary>Where a login came from: the registry's token endpoint (the CLI) or the API.</summary>
public enum LoginChannel
{
    Registry,
    Api,
}

/// <summary>
/// Checks a user name and secret: a robot token ("namespace+name"), an app token
/// (for the user, or for "$app"), a refresh token is not accepted here (see the
/// token endpoint), or the account password, locally or against LDAP. Failures
/// are counted and throttled before any hashing is spent; secrets never reach a log.
/// </summary>
public sealed class CredentialVerifier(
    AuthDb authDb,
    LoginThrottle throttle,
    PasswordHasher hasher,
    LdapTeamSync ldapSync,
    IOptions<AuthOptions> options,
    TimeProvider clock,
    ILdapUserStore? ldap = null)
{
    /// <summary>The user name that means "the password is an app token" (as Quay spells it).</summary>
    public const string AppTokenUser = "$app";

    private const int MaxSecretLength = 4096;
    private static readonly TimeSpan VerifiedFor = TimeSpan.FromMinutes(5);
    private readonly byte[] _cacheKey = RandomNumberGenerator.GetBytes(32);
    private readonly ConcurrentDictionary<string, DateTime> _verifiedPasswords = new(StringComparer.Ordinal);
    private readonly Lazy<string> _dummyHash = new(() => hasher.Hash(Secrets.NewToken()));

    public async Task<Authentication> VerifyAsync(string user, string secret, string? address, LoginChannel channel, CancellationToken cancellationToken)
    {
        if (user.Length is 0 or > AccountNames.MaxLength + 70 || secret.Length is 0 or > MaxSecretLength)
            return new Authentication(null, "invalid credentials");
        // Robot and app tokens are 256-bit secrets: guessing them is hopeless, and counting
        // failures against their (guessable) names would let anyone lock out CI. They are
        // throttled by address only.
        var throttled = user == AppTokenUser || AccountNames.IsRobot(user) ? null : user;
        if (await throttle.BlockedForAsync(throttled, address, cancellationToken) is { } wait)
            return new Authentication(null, "too many failed logins; try again later", wait);

        var (caller, reason) = await CheckAsync(user, secret, channel, cancellationToken);
        if (caller is not null)
        {
            if (throttled is not null) await throttle.RecordSuccessAsync(throttled, cancellationToken);
            return new Authentication(caller, null);
        }
        await authDb.WriteAsync(async db =>
        {
            await throttle.RecordFailureAsync(db, throttled, address, cancellationToken);
            // Only a name that could be an account is recorded: people paste passwords into the user field.
            var account = AccountNames.IsValidNamespace(user) || user == AppTokenUser || AccountNames.IsRobot(user) && user.Length <= AccountNames.MaxLength ? user : "(not an account name)";
            db.Publish(new LoginFailed(account, reason) { Actor = new EventActor(account, "login", address, null) });
            await db.SaveChangesAsync(cancellationToken);
            return;
        }, cancellationToken);
        return new Authentication(null, reason == "passwords not accepted" ? "account passwords are not accepted here; log in with an app token" : "invalid credentials");
    }

    private async Task<(Caller? Caller, string Reason)> CheckAsync(string user, string secret, LoginChannel channel, CancellationToken cancellationToken)
    {
        await using var db = authDb.Open();
        if (AccountNames.IsRobot(user))
        {
            var robot = await db.Robots.AsNoTracking().FirstOrDefaultAsync(r => r.Name == user, cancellationToken);
            // Compare against a dummy hash for unknown robots, so timing does not tell which exist.
            var ok = Secrets.Matches(secret, robot?.TokenHash ?? new byte[32]) && robot is not null;
            return ok ? (new Caller(user, CallerKind.Robot, false), "") : (null, "bad robot token");
        }

        var tokenHash = Secrets.Hash(secret);
        var now = clock.GetUtcNow().UtcDateTime;
        var appToken = await db.AppTokens.FirstOrDefaultAsync(t => t.TokenHash == tokenHash, cancellationToken);
        if (appToken is not null && (user == AppTokenUser || user == appToken.User) && appToken.RevokedAt == null && (appToken.ExpiresAt == null || appToken.ExpiresAt > now))
        {
            var owner = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Name == appToken.User && u.Enabled, cancellationToken);
            if (owner is null) return (null, "disabled account");
            appToken.LastUsedAt = now;
            await db.SaveChangesAsync(cancellationToken);
            return (new Caller(owner.Name, CallerKind.User, owner.IsSuperuser) { ViaAppToken = true }, "");
        }
        if (user == AppTokenUser) return (null, "bad app token");
        if (channel == LoginChannel.Registry && !options.Value.PasswordLogin) return (null, "passwords not accepted");

        var account = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Name == user, cancellationToken);
        if (account is { Enabled: false }) return (null, "disabled account");
        if (account is { Source: "local", PasswordHash: { } stored })
            return VerifyPassword(secret, stored) ? (new Caller(account.Name, CallerKind.User, account.IsSuperuser), "") : (null, "bad password");
        if (ldap is not null && (account is null || account.Source == "ldap"))
        {
            var directoryUser = await ldap.AuthenticateAsync(user, secret, cancellationToken);
            if (directoryUser is null) return (null, "bad directory password");
            var synced = await ldapSync.SyncAsync(directoryUser, cancellationToken);
            return synced is null ? (null, "name taken by an organization") : (synced, "");
        }
        // Unknown account: spend the same time as a real check so timing does not reveal which names exist.
        hasher.Verify(secret, _dummyHash.Value);
        return (null, "unknown account");
    }

    /// <summary>
    /// PBKDF2 with 600k rounds costs a core ~0.3 s; docker asks for a token per
    /// pull, so a verified (hash, password) pair is remembered for a few minutes
    /// under a keyed HMAC (never the password itself). A changed password has a
    /// new stored hash, so it never matches an old entry.
    /// </summary>
    private bool VerifyPassword(string password, string stored)
    {
        var key = Convert.ToBase64String(HMACSHA256.HashData(_cacheKey, Encoding.UTF8.GetBytes(stored + "\0" + password)));
        var now = clock.GetUtcNow().UtcDateTime;
        if (_verifiedPasswords.TryGetValue(key, out var until) && until > now) return true;
        if (!hasher.Verify(password, stored)) return false;
        if (_verifiedPasswords.Count > 10_000) _verifiedPasswords.Clear();
        _verifiedPasswords[key] = now + VerifiedFor;
        return true;
    }
}
