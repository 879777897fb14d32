using Berth.Access;
using Berth.Auth.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Berth.Auth.Tokens;

/// <summary>
/// Keeps the key ring's private keys in the Auth database, so tokens issued
/// before a restart still verify after it, and rotation (an admin call) is
/// saved before the new key signs anything.
/// </summary>
public sealed class SigningKeyStore(AuthDb authDb, SigningKeyRing ring, IOptions<TokenSettings> settings)
{
    /// <summary>Loads the saved keys into the ring, or makes and saves the first one.</summary>
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        await using (var db = authDb.Open())
        {
            var now = authDb.Now();
            var rows = await db.SigningKeys.AsNoTracking().ToListAsync(cancellationToken);
            foreach (var row in rows.Where(r => r.VerifiesUntil is null || r.VerifiesUntil > now).OrderBy(r => r.CreatedAt))
                ring.Import(row.KeyId, row.PrivateKey, new DateTimeOffset(row.CreatedAt, TimeSpan.Zero),
                    row.VerifiesUntil is { } until ? new DateTimeOffset(until, TimeSpan.Zero) : null, settings.Value.Lifetime);
        }
        await SaveAsync(cancellationToken);
    }

    /// <summary>Starts signing with a new key; the old one verifies until its last token expires.</summary>
    public async Task<string> RotateAsync(CancellationToken cancellationToken)
    {
        var key = ring.Rotate(settings.Value.Lifetime);
        await SaveAsync(cancellationToken);
        return key.KeyId;
    }

    /// <summary>
    /// Writes the ring's keys and drops rows whose verification grace is over. Rows
    /// this ring does not hold are kept: another Auth instance may have written them.
    /// </summary>
    private Task SaveAsync(CancellationToken cancellationToken)
    {
        _ = ring.Active;
        var keys = ring.Export();
        return authDb.WriteAsync(async db =>
        {
            var existing = await db.SigningKeys.ToListAsync(cancellationToken);
            var now = authDb.Now();
            foreach (var row in existing.Where(r => r.VerifiesUntil <= now)) db.SigningKeys.Remove(row);
            foreach (var (keyId, pkcs8, createdAt, verifiesUntil) in keys)
            {
                var row = existing.FirstOrDefault(r => r.KeyId == keyId);
                if (row is null)
                {
                    row = new SigningKeyRow { KeyId = keyId, PrivateKey = pkcs8, CreatedAt = createdAt.UtcDateTime };
                    db.SigningKeys.Add(row);
                }
                row.VerifiesUntil = verifiesUntil?.UtcDateTime;
            }
            await db.SaveChangesAsync(cancellationToken);
            return;
        }, cancellationToken);
    }
}
