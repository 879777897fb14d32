using Berth.Auth.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Berth.Auth.Accounts;

/// <summary>
/// Counts failed logins per account and per client address, in the database so
/// every Auth instance sees the same count. After <see cref="AuthOptions.FailuresBeforeThrottle"/>
/// failures of an account (or <see cref="AuthOptions.AddressFailuresBeforeThrottle"/> from an address) the key must wait, twice as long after each further failure, up to
/// <see cref="AuthOptions.MaxThrottle"/>. A quiet spell of twice that forgets the count.
/// </summary>
public sealed class LoginThrottle(AuthDb authDb, IOptions<AuthOptions> options, TimeProvider clock)
{
    public static string AccountKey(string account) => "account:" + (account.Length > 300 ? account[..300] : account);

    public static string AddressKey(string address) => "address:" + address;

    /// <summary>How long the account or address must still wait, if at all.</summary>
    public async Task<TimeSpan?> BlockedForAsync(string? account, string? address, CancellationToken cancellationToken)
    {
        var keys = Keys(account, address);
        await using var db = authDb.Open();
        var until = await db.LoginFailures.AsNoTracking().Where(f => keys.Contains(f.Key) && f.BlockedUntil != null)
            .MaxAsync(f => f.BlockedUntil, cancellationToken);
        var now = clock.GetUtcNow().UtcDateTime;
        return until is { } u && u > now ? u - now : null;
    }

    /// <summary>Counts a failure inside the caller's write transaction.</summary>
    public async Task RecordFailureAsync(AuthDbContext db, string? account, string? address, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var now = clock.GetUtcNow().UtcDateTime;
        foreach (var key in Keys(account, address))
        {
            var row = await db.LoginFailures.FirstOrDefaultAsync(f => f.Key == key, cancellationToken);
            if (row is null)
            {
                row = new LoginFailureRow { Key = key };
                db.LoginFailures.Add(row);
            }
            else if (now - row.LastFailureAt > settings.MaxThrottle * 2)
            {
                row.Failures = 0;
                row.BlockedUntil = null;
            }
            row.Failures++;
            row.LastFailureAt = now;
            var over = row.Failures - (key.StartsWith("address:", StringComparison.Ordinal) ? settings.AddressFailuresBeforeThrottle : settings.FailuresBeforeThrottle);
            if (over >= 0)
            {
                var wait = TimeSpan.FromSeconds(Math.Min(Math.Pow(2, Math.Min(over, 30)), settings.MaxThrottle.TotalSeconds));
                row.BlockedUntil = now + wait;
            }
        }
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>
    /// A good login clears the account's count. The address keeps its count: one
    /// valid account must not let an address go on guessing at others.
    /// </summary>
    public async Task RecordSuccessAsync(string account, CancellationToken cancellationToken)
    {
        var key = AccountKey(account);
        await using var db = authDb.Open();
        if (!await db.LoginFailures.AnyAsync(f => f.Key == key, cancellationToken)) return;
        await authDb.WriteAsync(async w => await w.LoginFailures.Where(f => f.Key == key).ExecuteDeleteAsync(cancellationToken), cancellationToken);
    }

    /// <summary>The counters a login touches: its account's (none for token logins) and its address's.</summary>
    private static List<string> Keys(string? account, string? address)
    {
        var keys = new List<string>(2);
        if (account is not null) keys.Add(AccountKey(account));
        if (address is not null) keys.Add(AddressKey(address));
        return keys;
    }
}
