using Berth.Access;
using Berth.Collector.Api;
using Berth.Collector.Data;
using Berth.Collector.Policies;
using Berth.Collector.Running;
using Berth.Data;
using Berth.Data.Outbox;
using Berth.Registry.Collection;
using Berth.Registry.Services;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Berth.Collector;

/// <summary>
/// The collector module's one way in: <c>builder.AddCollector()</c> and <c>app.MapCollector()</c>.
/// It decides when and what to collect and keeps the history; the registry module,
/// which owns the data, does the collecting (<see cref="GarbageCollector"/>), so
/// for now the two run in the same process.
/// </summary>
public static class CollectorModule
{
    public static IHostApplicationBuilder AddCollector(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        var options = builder.AddModuleOptions<CollectorOptions>(CollectorOptions.SectionName);
        var refused = options.TimeMachineWindows.Where(w => !options.AllowedTimeMachineWindows.Contains(w.Value)).ToList();
        if (refused.Count > 0 || !options.AllowedTimeMachineWindows.Contains(options.DefaultTimeMachineWindow))
            throw new InvalidOperationException(
                $"Collector time-machine windows must be one of {string.Join(", ", options.AllowedTimeMachineWindows)}; refused: "
                + string.Join(", ", refused.Select(w => $"{w.Key}={w.Value}").Append(
                    options.AllowedTimeMachineWindows.Contains(options.DefaultTimeMachineWindow) ? null : $"default={options.DefaultTimeMachineWindow}").OfType<string>()));
        services.AddModuleDatabase<CollectorDbContext, SqliteCollectorDbContext, PostgresCollectorDbContext, CollectorDb>(
            options, (open, gate, clock) => new CollectorDb(open, gate, clock));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<CollectorInitializer>();
        services.AddHostedService(sp => sp.GetRequiredService<CollectorInitializer>());
        services.AddOutboxDispatcher<CollectorDbContext, CollectorDb>();
        services.AddSingleton<CollectorMetrics>();
        // The registry enforces the windows (restores) and the collector applies them (collections).
        services.AddSingleton<ConfiguredTimeMachineWindows>();
        services.AddSingleton<ITimeMachineWindows>(sp => sp.GetRequiredService<ConfiguredTimeMachineWindows>());
        services.AddSingleton<ImmutabilityRules>();
        services.AddSingleton<ITagGuard>(sp => sp.GetRequiredService<ImmutabilityRules>());
        services.AddSingleton<RetentionPass>();
        services.AddSingleton<Quotas>();
        services.AddSingleton<IQuotaPolicy>(sp => sp.GetRequiredService<Quotas>());
        services.AddSingleton<CollectionLease>();
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<CollectionRunner>(sp,
            sp.GetService<GarbageCollector>() ?? throw new InvalidOperationException(
                "the collector module runs next to the registry module: use --services all, or a list with both 'registry' and 'collector'")));
        services.AddHostedService<CollectionScheduler>();
        if (!string.IsNullOrEmpty(options.AuthUrl)) services.AddRemoteAccessDirectory(options.AuthUrl);
        services.AddSingleton<CollectorAccess>();
        services.AddGrpc(o => o.EnableDetailedErrors = false).AddJsonTranscoding();
        return builder;
    }

    public static IEndpointRouteBuilder MapCollector(this IEndpointRouteBuilder app)
    {
        app.MapGrpcService<CollectorGrpcService>();
        return app;
    }
}
