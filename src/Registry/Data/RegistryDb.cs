using Berth.Data;

namespace Berth.Registry.Data;

/// <summary>The registry's database: see <see cref="ModuleDatabase{TContext}"/>.</summary>
public sealed class RegistryDb(Func<RegistryDbContext> createContext, WriteGate writeGate, TimeProvider clock)
    : ModuleDatabase<RegistryDbContext>(createContext, writeGate, clock);
