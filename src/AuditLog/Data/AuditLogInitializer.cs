using Berth.Data;
using Microsoft.Extensions.Logging;

namespace Berth.AuditLog.Data;

/// <summary>
/// The audit log's schema before it records or ships anything. Events can arrive
/// earlier (other modules' outboxes start first): recording waits for <see cref="ModuleDatabaseInitializer{TContext}.Ready"/>.
/// </summary>
public sealed class AuditLogInitializer(AuditLogDb auditLogDb, ILogger<AuditLogInitializer> logger)
    : ModuleDatabaseInitializer<AuditLogDbContext>(auditLogDb, "auditlog", logger);
