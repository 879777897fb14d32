using System.Collections.Concurrent;

namespace Berth.Access;

/// <summary>
/// Remembers tokens that validated, until they expire, so a client re-using its
/// token (every request of a pull does) costs a dictionary lookup instead of a
/// signature check. Refused tokens are not remembered.
/// </summary>
public sealed class CachingTokenValidator(TokenValidator validator, TimeProvider clock)
{
    private const int MaxEntries = 50_000;
    private readonly ConcurrentDictionary<string, TokenGrant> _valid = new(StringComparer.Ordinal);

    public async ValueTask<TokenCheck> ValidateAsync(string token)
    {
        var now = clock.GetUtcNow();
        if (_valid.TryGetValue(token, out var cached))
        {
            if (cached.ExpiresAt > now) return new TokenCheck(cached, null);
            _valid.TryRemove(token, out _);
        }
        var check = await validator.ValidateAsync(token);
        if (check.Grant is { ExpiresAt: { } expires } grant && expires > now)
        {
            if (_valid.Count >= MaxEntries) Prune(now);
            _valid[token] = grant;
        }
        return check;
    }

    private void Prune(DateTimeOffset now)
    {
        foreach (var (token, grant) in _valid)
            if (grant.ExpiresAt <= now) _valid.TryRemove(token, out _);
        if (_valid.Count >= MaxEntries) _valid.Clear();
    }
}
