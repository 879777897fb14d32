using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Berth.Data;

/// <summary>
/// Retries a write that lost a race: a unique-key collision with a concurrent
/// push of the same thing, a serialization failure or a deadlock. The retry
/// re-reads, sees the winner's row and converges, so the client never sees the race.
/// </summary>
public static class TransientConflict
{
    private const int MaxAttempts = 8;

    public static async Task<T> RetryAsync<T>(Func<Task<T>> operation, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await operation();
            }
            catch (Exception e) when (attempt < MaxAttempts && IsConflict(e))
            {
                await Task.Delay(Random.Shared.Next(1, 5 * attempt), cancellationToken);
            }
        }
    }

    public static bool IsConflict(Exception e) => e switch
    {
        DbUpdateException { InnerException: { } inner } => IsConflict(inner),
        PostgresException pg => pg.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected,
        // 2067/1555 = unique/primary key constraint, 5 = SQLITE_BUSY, 6 = SQLITE_LOCKED
        SqliteException sqlite => sqlite.SqliteExtendedErrorCode is 2067 or 1555 || sqlite.SqliteErrorCode is 5 or 6,
        _ => false,
    };
}
