using Berth.Access;
using Berth.Data;
using Berth.Data.Background;
using Berth.Data.Outbox;
using Berth.Registry.Access;
using Berth.Registry.Data;
using Berth.Registry.Grpc;
using Berth.Registry.Http;
using Berth.Registry.Services;
using Berth.Registry.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.Registry;

/// <summary>The registry module's one way in: <c>builder.AddRegistry()</c> and <c>app.MapRegistry()</c>.</summary>
public static class RegistryModule
{
    public static IHostApplicationBuilder AddRegistry(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        var options = builder.AddModuleOptions<RegistryOptions>(RegistryOptions.SectionName);
        services.AddModuleDatabase<RegistryDbContext, SqliteRegistryDbContext, PostgresRegistryDbContext, RegistryDb>(
            options, (open, gate, clock) => new RegistryDb(open, gate, clock));

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<IBlobStore>(sp =>
        {
            var resolved = sp.GetRequiredService<IOptions<RegistryOptions>>().Value;
            return new FileSystemBlobStore(resolved.ResolveStorageDirectory());
        });
        if (string.IsNullOrEmpty(options.Redis))
            services.AddSingleton<ISharedCacheTier, SingleInstanceTier>();
        else
        {
            services.AddSingleton<ISharedCacheTier>(sp => new RedisCacheTier(options.Redis, sp.GetRequiredService<ILogger<RedisCacheTier>>()));
            services.AddHostedService<BlobLinkWarmer>();
        }
        services.AddSingleton(sp => new RegistryCache(new MemoryCache(new MemoryCacheOptions
        {
            SizeLimit = sp.GetRequiredService<IOptions<RegistryOptions>>().Value.CacheSizeBytes,
        }), sp.GetRequiredService<ISharedCacheTier>()));
        services.AddSingleton<RepositoryDirectory>();
        services.AddSingleton<UploadProgress>();
        services.AddSingleton<BlobService>();
        services.AddSingleton<UploadService>();
        services.AddSingleton<UploadSessionRecorder>();
        services.AddHostedService(sp => sp.GetRequiredService<UploadSessionRecorder>());
        services.AddSingleton<TagWriter>();
        services.AddSingleton<ManifestService>();
        services.AddSingleton<CatalogService>();
        services.AddSingleton<BlobEndpoints>();
        services.AddSingleton<UploadEndpoints>();
        services.AddSingleton<ManifestEndpoints>();
        services.AddSingleton<ListingEndpoints>();
        services.AddSingleton<V2Dispatcher>();
        services.AddSingleton<ApiAccess>();
        if (options.RequiresTokens) AddTokenChecks(builder);
        services.AddHttpContextAccessor();
        services.AddSingleton<EventActors>();
        services.AddHostedService<RegistryDatabaseInitializer>();
        services.AddOutboxDispatcher<RegistryDbContext, RegistryDb>();
        services.AddSingleton<PullEventQueue>();
        services.AddLowPriorityScheduler();
        if (options.PullEvents) services.AddHostedService<PullEventWriter>();
        services.AddHostedService<UploadProgressSweeper>();
        services.AddSingleton<PullTimes>();
        services.AddSingleton<PullTimeWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<PullTimeWriter>());
        services.AddSingleton<RegistryMetrics>();
        services.AddSingleton<Collection.GarbageCollector>();
        services.AddSingleton<Collection.ForegroundActivity>();
        services.AddHostedService<Collection.TagExpiryWatcher>();
        services.TryAddSingleton<Collection.ITimeMachineWindows>(new Collection.FixedTimeMachineWindows(Collection.FixedTimeMachineWindows.Default));
        services.AddSingleton<TimeMachine>();
        services.TryAddSingleton<ITagGuard, NoTagGuard>();
        services.TryAddSingleton<IQuotaPolicy, NoQuotas>();
        services.AddSingleton<NamespaceUsage>();
        services.AddSingleton<QuotaCheck>();

        services.AddGrpc(o => o.EnableDetailedErrors = false).AddJsonTranscoding();
        return builder;
    }

    /// <summary>
    /// Tokens are checked against the Auth module's keys: its key ring when it runs
    /// in this process (it registers the key source), its JWKS endpoint otherwise.
    /// </summary>
    private static void AddTokenChecks(IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<TokenSettings>().Bind(builder.Configuration.GetSection(TokenSettings.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        var authUrl = builder.Configuration.GetSection(RegistryOptions.SectionName).Get<RegistryOptions>()?.AuthUrl;
        var jwksUrl = builder.Configuration.GetSection(TokenSettings.SectionName).Get<TokenSettings>()?.JwksUrl
            ?? (string.IsNullOrEmpty(authUrl) ? null : new Uri(new Uri(authUrl), "/v2/auth/jwks").ToString());
        if (!string.IsNullOrEmpty(authUrl))
        {
            services.AddRemoteAccessDirectory(authUrl);
        }
        if (!string.IsNullOrEmpty(jwksUrl))
        {
            // With Redis, the keys Auth shares there come first and its rotations are heard at once.
            var redis = builder.Configuration.GetSection(RegistryOptions.SectionName).Get<RegistryOptions>()?.Redis;
            services.AddSingleton(sp => new JwksKeySource(new HttpClient { Timeout = TimeSpan.FromSeconds(10) }, jwksUrl,
                sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<JwksKeySource>>(),
                string.IsNullOrEmpty(redis) ? null : new RedisSigningKeys(redis, sp.GetRequiredService<ILogger<RedisSigningKeys>>())));
            services.AddHostedService(sp => sp.GetRequiredService<JwksKeySource>());
            services.TryAddSingleton<ITrustedKeySource>(sp => sp.GetRequiredService<JwksKeySource>());
        }
        services.AddSingleton(sp =>
        {
            var keys = sp.GetService<ITrustedKeySource>() ?? throw new InvalidOperationException(
                "Registry:Authentication is 'token' but no token keys are available: run the auth module in this process or set Tokens:JwksUrl");
            var settings = sp.GetRequiredService<IOptions<TokenSettings>>().Value;
            var clock = sp.GetRequiredService<TimeProvider>();
            return new CachingTokenValidator(new TokenValidator(() => keys.Keys, clock, settings.Issuer, settings.Service, keys.TryLearnKeyAsync), clock);
        });
        services.AddSingleton<V2AccessGuard>();
    }

    public static IEndpointRouteBuilder MapRegistry(this IEndpointRouteBuilder app)
    {
        var dispatcher = app.ServiceProvider.GetRequiredService<V2Dispatcher>();
        app.Map("/v2", dispatcher.HandleAsync);
        app.Map("/v2/{**path}", dispatcher.HandleAsync);
        app.MapGrpcService<RegistryGrpcService>();
        return app;
    }
}
