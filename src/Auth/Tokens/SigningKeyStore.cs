using Berth.Access;
using Berth.Auth.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.Auth.Tokens;

/// <summary>
/// Keeps the key ring's private keys in the Auth database, so tokens issued
/// before a restart still verify after it, rotation (an admin call) is saved
/// before the new key signs anything, and every Auth instance on the database
/// converges on the same keys (<see cref="SyncAsync"/>). With Redis, rotations
/// are announced there so the others read the keys at once.
/// </summary>
public sealed class SigningKeyStore(
    AuthDb authDb, SigningKeyRing ring, IOptions<TokenSettings> settings, ILogger<SigningKeyStore> logger, RedisSigningKeys? shared = null)
{
    // Sync and rotation each read, change and write the ring: one at a time within this instance.
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>
    /// Brings the ring in line with the saved keys, which any instance may have changed,
    /// and saves what the ring adds: the first key on an empty database, or a longer
    /// grace for a key this instance signed with until it learnt of a rotation.
    /// </summary>
    public async Task SyncAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            List<SigningKeyRow> rows;
            await using (var db = authDb.Open())
                rows = await db.SigningKeys.AsNoTracking().ToListAsync(cancellationToken);
            if (ring.Synchronize(rows.Select(Stored), settings.Value.Lifetime))
                logger.LogInformation("Signing keys read from the database; signing with {KeyId}", ring.Active.KeyId);
            _ = ring.Active;
            if (NeedsSaving(rows)) await SaveAsync(cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Starts signing with a new key; the old one verifies until its last token expires.</summary>
    public async Task<string> RotateAsync(CancellationToken cancellationToken)
    {
        SigningKeyRing.SigningKey key;
        await _gate.WaitAsync(cancellationToken);
        try
        {
            key = ring.Rotate(settings.Value.Lifetime);
            await SaveAsync(cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
        // Saved before announced: whoever the announcement wakes reads the new key.
        if (shared is not null) await shared.AnnounceRotationAsync();
        logger.LogInformation("Rotated the token signing key; signing with {KeyId}", key.KeyId);
        return key.KeyId;
    }

    private static SigningKeyRing.StoredKey Stored(SigningKeyRow row) =>
        new(row.KeyId, row.PrivateKey, Utc(row.CreatedAt), row.VerifiesUntil is { } until ? Utc(until) : null);

    private static DateTimeOffset Utc(DateTime time) => new(DateTime.SpecifyKind(time, DateTimeKind.Utc));

    /// <summary>Whether the ring holds a key or a grace the rows lack, or a row's grace is over.</summary>
    private bool NeedsSaving(List<SigningKeyRow> rows)
    {
        var now = authDb.Now();
        return rows.Any(r => r.VerifiesUntil <= now)
            || ring.Export().Any(k => rows.Find(r => r.KeyId == k.KeyId) is not { } row || row.VerifiesUntil != k.VerifiesUntil?.UtcDateTime);
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
            foreach (var row in existing.Where(r => r.VerifiesUntil <= now && keys.All(k => k.KeyId != r.KeyId))) db.SigningKeys.Remove(row);
            foreach (var key in keys)
            {
                var row = existing.FirstOrDefault(r => r.KeyId == key.KeyId);
                if (row is null)
                {
                    row = new SigningKeyRow { KeyId = key.KeyId, PrivateKey = key.Pkcs8, CreatedAt = key.CreatedAt.UtcDateTime };
                    db.SigningKeys.Add(row);
                }
                // Another instance may have retired the key, or lengthened its grace, since this ring last read.
                row.VerifiesUntil = SigningKeyRing.Later(row.VerifiesUntil is { } saved ? Utc(saved) : null, key.VerifiesUntil)?.UtcDateTime;
            }
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
    }
}
