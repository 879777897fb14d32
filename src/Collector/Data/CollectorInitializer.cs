using Berth.Data;
using Microsoft.Extensions.Logging;

namespace Berth.Collector.Data;

/// <summary>The collector's schema first; the scheduler waits for <see cref="ModuleDatabaseInitializer{TContext}.Ready"/>.</summary>
public sealed class CollectorInitializer(CollectorDb collectorDb, ILogger<CollectorInitializer> logger)
    : ModuleDatabaseInitializer<CollectorDbContext>(collectorDb, "collector", logger);
