using Berth.Access;
using Berth.Auth.Accounts;
using Berth.Auth.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Berth.Auth.Tokens;

/// <summary>
/// OAuth2 refresh tokens ("offline" logins) that docker and containerd keep
/// instead of the password. Stored as hashes; redeeming one re-reads the account,
/// so a deleted or disabled account or robot stops getting tokens at once.
/// </summary>
public sealed class RefreshTokens(AuthDb authDb, IOptions<AuthOptions> options)
{
    public Task<string> CreateAsync(Caller caller, string clientId, CancellationToken cancellationToken)
    {
        var token = Secrets.NewToken();
        return authDb.WriteAsync(async db =>
        {
            var now = authDb.Now();
            db.RefreshTokens.Add(new RefreshTokenRow
            {
                TokenHash = Secrets.Hash(token),
                Account = caller.Name,
                ClientId = clientId.Length > 200 ? clientId[..200] : clientId,
                CreatedAt = now,
                ExpiresAt = now + options.Value.RefreshTokenLifetime,
            });
            await db.SaveChangesAsync(cancellationToken);
            return token;
        }, cancellationToken);
    }

    /// <summary>The account a refresh token stands for, or null when it is unknown, expired or its account is gone.</summary>
    public async Task<Caller?> RedeemAsync(string token, CancellationToken cancellationToken)
    {
        if (token.Length is 0 or > 512) return null;
        var hash = Secrets.Hash(token);
        await using var db = authDb.Open();
        var row = await db.RefreshTokens.AsNoTracking().FirstOrDefaultAsync(t => t.TokenHash == hash, cancellationToken);
        if (row is null || row.ExpiresAt <= authDb.Now()) return null;
        if (AccountNames.IsRobot(row.Account))
            return await db.Robots.AnyAsync(r => r.Name == row.Account, cancellationToken) ? new Caller(row.Account, CallerKind.Robot, false) : null;
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Name == row.Account && u.Enabled, cancellationToken);
        return user is null ? null : new Caller(user.Name, CallerKind.User, user.IsSuperuser);
    }
}
