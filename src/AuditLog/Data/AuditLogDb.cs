using Berth.Data;

namespace Berth.AuditLog.Data;

/// <summary>The audit log's database: see <see cref="ModuleDatabase{TContext}"/>.</summary>
public sealed class AuditLogDb(Func<AuditLogDbContext> createContext, WriteGate writeGate, TimeProvider clock)
    : ModuleDatabase<AuditLogDbContext>(createContext, writeGate, clock);
