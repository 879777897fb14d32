using Berth.Data;

namespace Berth.Collector.Data;

/// <summary>The collector's database: see <see cref="ModuleDatabase{TContext}"/>.</summary>
public sealed class CollectorDb(Func<CollectorDbContext> createContext, WriteGate writeGate, TimeProvider clock)
    : ModuleDatabase<CollectorDbContext>(createContext, writeGate, clock);
