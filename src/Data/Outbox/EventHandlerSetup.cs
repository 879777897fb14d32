using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Berth.Data.Outbox;

/// <summary>
/// Registers a module's event handler. On the in-process bus it is subscribed when
/// the host starts; on RabbitMQ the bus gives each handler its own queue (see BusSetup).
/// </summary>
public static class EventHandlerSetup
{
    public static IServiceCollection AddEventHandler<THandler>(this IServiceCollection services)
        where THandler : class, IEventHandler
    {
        services.AddSingleton<THandler>();
        services.AddSingleton<IEventHandler>(sp => sp.GetRequiredService<THandler>());
        services.AddHostedService<InProcessSubscriptions>();  // once, however many handlers
        return services;
    }

    /// <summary>Subscribes every handler to the in-process bus, when that is the bus events go to.</summary>
    private sealed class InProcessSubscriptions(IEnumerable<IEventHandler> handlers, IEventPublisher? publisher = null) : IHostedService
    {
        private readonly List<IDisposable> _subscriptions = [];

        public Task StartAsync(CancellationToken cancellationToken)
        {
            if (publisher is InProcessEventBus bus)
                foreach (var handler in handlers) _subscriptions.Add(bus.Subscribe(handler.HandleAsync));
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken)
        {
            foreach (var subscription in _subscriptions) subscription.Dispose();
            return Task.CompletedTask;
        }
    }
}
