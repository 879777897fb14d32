using Berth.Registry.Data;
using Berth.Registry.Grpc;
using Berth.Registry.Http;
using Berth.Registry.Services;
using Berth.Registry.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Berth.Registry;

/// <summary>The registry module's one way in: <c>builder.AddRegistry()</c> and <c>app.MapRegistry()</c>.</summary>
public static class RegistryModule
{
    public static IHostApplicationBuilder AddRegistry(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<RegistryOptions>()
            .Bind(builder.Configuration.GetSection(RegistryOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        var options = builder.Configuration.GetSection(RegistryOptions.SectionName).Get<RegistryOptions>() ?? new RegistryOptions();
        AddDatabase(services, options);

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<IBlobStore>(sp =>
        {
            var resolved = sp.GetRequiredService<IOptions<RegistryOptions>>().Value;
            return new FileSystemBlobStore(resolved.ResolveStorageDirectory());
        });
        services.AddSingleton(sp => new RegistryCache(new MemoryCache(new MemoryCacheOptions
        {
            SizeLimit = sp.GetRequiredService<IOptions<RegistryOptions>>().Value.CacheSizeBytes,
        })));
        services.AddSingleton<RepositoryDirectory>();
        services.AddSingleton<UploadProgress>();
        services.AddSingleton<BlobService>();
        services.AddSingleton<UploadService>();
        services.AddSingleton<TagWriter>();
        services.AddSingleton<ManifestService>();
        services.AddSingleton<CatalogService>();
        services.AddSingleton<BlobEndpoints>();
        services.AddSingleton<UploadEndpoints>();
        services.AddSingleton<ManifestEndpoints>();
        services.AddSingleton<ListingEndpoints>();
        services.AddSingleton<V2Dispatcher>();
        services.AddHostedService<RegistryDatabaseInitializer>();
        services.AddHostedService<UploadProgressSweeper>();
        services.AddSingleton<RegistryMetrics>();

        services.AddGrpc(o => o.EnableDetailedErrors = false).AddJsonTranscoding();
        return builder;
    }

    private static void AddDatabase(IServiceCollection services, RegistryOptions options)
    {
        var connectionString = options.ResolveConnectionString();
        if (options.DatabaseProvider == "postgres")
        {
            services.AddPooledDbContextFactory<PostgresRegistryDbContext>(o => QuietRetriedConflicts(o.UseNpgsql(connectionString)));
            services.AddSingleton(sp =>
            {
                var factory = sp.GetRequiredService<IDbContextFactory<PostgresRegistryDbContext>>();
                return new RegistryDb(factory.CreateDbContext, new WriteGate(serialize: false), sp.GetRequiredService<TimeProvider>());
            });
            return;
        }

        Directory.CreateDirectory(options.DataDirectory);
        services.AddPooledDbContextFactory<SqliteRegistryDbContext>(o => QuietRetriedConflicts(o.UseSqlite(connectionString).AddInterceptors(new SqlitePragmas())));
        services.AddSingleton(sp =>
        {
            var factory = sp.GetRequiredService<IDbContextFactory<SqliteRegistryDbContext>>();
            return new RegistryDb(factory.CreateDbContext, new WriteGate(serialize: true), sp.GetRequiredService<TimeProvider>());
        });
    }

    /// <summary>
    /// A unique-key conflict between concurrent pushes is expected and retried
    /// (<see cref="TransientConflict"/>), so EF's "failed executing command" is
    /// logged at Debug; a failure that is not retried still surfaces as an exception.
    /// </summary>
    private static DbContextOptionsBuilder QuietRetriedConflicts(DbContextOptionsBuilder options) =>
        options.ConfigureWarnings(w => w.Log((RelationalEventId.CommandError, LogLevel.Debug), (CoreEventId.SaveChangesFailed, LogLevel.Debug)));

    public static IEndpointRouteBuilder MapRegistry(this IEndpointRouteBuilder app)
    {
        var dispatcher = app.ServiceProvider.GetRequiredService<V2Dispatcher>();
        app.Map("/v2", dispatcher.HandleAsync);
        app.Map("/v2/{**path}", dispatcher.HandleAsync);
        app.MapGrpcService<RegistryGrpcService>();
        return app;
    }
}
