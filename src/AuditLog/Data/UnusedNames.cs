using Microsoft.EntityFrameworkCore;

namespace Berth.AuditLog.Data;

/// <summary>
/// Removes the texts no pull refers to any more, once retention has removed pulls: an old
/// client's address or user agent goes with the last pull that named it. The caller holds
/// the log's insert lock (or, on SQLite, the write transaction), so no batch is between
/// looking a text up and recording a pull that names it.
/// </summary>
internal static class UnusedNames
{
    public static Task<int> RemoveAsync(AuditLogDbContext db, CancellationToken cancellationToken) =>
        db.Database.ExecuteSqlRawAsync(
            """
            DELETE FROM audit_names WHERE "Id" NOT IN (
                SELECT "NamespaceId" FROM audit_pulls UNION SELECT "RepositoryId" FROM audit_pulls
                UNION SELECT "PerformerId" FROM audit_pulls UNION SELECT "PerformerKindId" FROM audit_pulls
                UNION SELECT "AddressId" FROM audit_pulls WHERE "AddressId" IS NOT NULL
                UNION SELECT "UserAgentId" FROM audit_pulls WHERE "UserAgentId" IS NOT NULL
                UNION SELECT "DigestId" FROM audit_pulls UNION SELECT "MediaTypeId" FROM audit_pulls
                UNION SELECT "TagId" FROM audit_pulls WHERE "TagId" IS NOT NULL)
            """, cancellationToken);
}
