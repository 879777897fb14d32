using Microsoft.Extensions.DependencyInjection;

namespace Berth.Data.Outbox;

/// <summary>
/// Registers a module's event handler. The in-process bus hands it every event;
/// on RabbitMQ the bus gives each handler its own queue (see BusSetup).
/// </summary>
public static class EventHandlerSetup
{
    public static IServiceCollection AddEventHandler<THandler>(this IServiceCollection services)
        where THandler : class, IEventHandler
    {
        services.AddSingleton<THandler>();
        services.AddSingleton<IEventHandler>(sp => sp.GetRequiredService<THandler>());
        return services;
    }
}
