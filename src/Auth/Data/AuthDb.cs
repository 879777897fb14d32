using Berth.Data;

namespace Berth.Auth.Data;

/// <summary>The Auth module's database: see <see cref="ModuleDatabase{TContext}"/>.</summary>
public sealed class AuthDb(Func<AuthDbContext> createContext, WriteGate writeGate, TimeProvider clock)
    : ModuleDatabase<AuthDbContext>(createContext, writeGate, clock);
