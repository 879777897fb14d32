using Berth.Data.Background;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Berth.Data.Outbox;

/// <summary>Registers a module database's outbox dispatcher, and the in-process bus unless the host chose another publisher.</summary>
public static class OutboxSetup
{
    /// <summary>
    /// Call after the module's own start-up work (migrations) is registered as a
    /// hosted service: hosted services start in order, and the dispatcher reads the
    /// outbox table from its first moment.
    /// </summary>
    public static IServiceCollection AddOutboxDispatcher<TContext, TDatabase>(this IServiceCollection services)
        where TContext : DbContext
        where TDatabase : ModuleDatabase<TContext>
    {
        services.TryAddSingleton<InProcessEventBus>();
        services.TryAddSingleton<IEventPublisher>(sp => sp.GetRequiredService<InProcessEventBus>());
        services.AddLowPriorityScheduler();
        services.AddHostedService(sp =>
        {
            var database = sp.GetRequiredService<TDatabase>();
            return new OutboxDispatcher<TContext>(database.Open, database.Outbox,
                sp.GetRequiredService<IEventPublisher>(), sp.GetRequiredService<ILogger<OutboxDispatcher<TContext>>>(),
                sp.GetRequiredService<LowPriorityScheduler>());
        });
        return services;
    }
}
