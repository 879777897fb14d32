using System.Reflection;
using Berth.Contracts;
using Berth.Data.Outbox;
using MassTransit;

namespace Berth.Messaging;

/// <summary>
/// A module's event handler as a RabbitMQ queue of its own: bound to every
/// integration event type, each message handed to the handler as the event it is.
/// A handler that fails is retried in place with growing pauses (up to 30 s apart)
/// until it succeeds: its store may be restarting or failing over.
/// </summary>
public static class EventHandlerEndpoint
{
    private static readonly MethodInfo BindMethod = typeof(EventHandlerEndpoint).GetMethod(nameof(Bind), BindingFlags.NonPublic | BindingFlags.Static)!;
    private static readonly MethodInfo RetainMethod = typeof(EventHandlerEndpoint).GetMethod(nameof(Retain), BindingFlags.NonPublic | BindingFlags.Static)!;

    /// <summary>
    /// Binds the durable subscribers' queues (<see cref="EventSubscribers.Durable"/>) to every
    /// event's exchange when this process publishes it, as their own endpoints would:
    /// without it, RabbitMQ drops an event published before its consumer first started.
    /// </summary>
    public static void RetainForDurableSubscribers(IRabbitMqBusFactoryConfigurator rabbit)
    {
        foreach (var type in IntegrationEventTypes.ByName.Values)
            foreach (var queue in EventSubscribers.Durable)
                RetainMethod.MakeGenericMethod(type).Invoke(null, [rabbit, queue]);
    }

    private static void Retain<TEvent>(IRabbitMqBusFactoryConfigurator rabbit, string queue)
        where TEvent : IntegrationEvent =>
        rabbit.Publish<TEvent>(publish => publish.BindQueue(queue, queue));

    /// <summary>
    /// Messages a handler's queue delivers before their acks: enough side by side for a handler
    /// to commit them together (the audit log does), while a backlog of pull batches (up to
    /// 5,000 pulls each) stays within tens of MB in the consumer.
    /// </summary>
    public const int Prefetch = 32;

    public static void Configure(IRabbitMqReceiveEndpointConfigurator endpoint, IEventHandler handler)
    {
        endpoint.PrefetchCount = Prefetch;
        // No limit: after a limit MassTransit parks the event in an error queue nobody drains,
        // and a store down for longer than that would leave a gap for ever.
        endpoint.UseMessageRetry(retry => retry.Exponential(int.MaxValue, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(1)));
        foreach (var type in IntegrationEventTypes.ByName.Values)
            BindMethod.MakeGenericMethod(type).Invoke(null, [endpoint, handler]);
    }

    private static void Bind<TEvent>(IReceiveEndpointConfigurator endpoint, IEventHandler handler)
        where TEvent : IntegrationEvent =>
        endpoint.Handler<TEvent>(context => handler.HandleAsync(context.Message, context.CancellationToken));
}
