using Berth.Data;
using Microsoft.Extensions.Logging;

namespace Berth.Registry.Data;

/// <summary>Applies the registry's pending migrations before the server takes requests.</summary>
public sealed class RegistryDatabaseInitializer(RegistryDb registryDb, ILogger<RegistryDatabaseInitializer> logger)
    : ModuleDatabaseInitializer<RegistryDbContext>(registryDb, "registry", logger);
