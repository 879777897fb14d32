using Berth.Contracts;

namespace Berth.Data.Outbox;

/// <summary>
/// The embedded default's bus: every module event handler in this process
/// (<see cref="IEventHandler"/>, from the first publish to the last, whatever order
/// the host starts and stops things in) and every subscriber gets each event. A
/// handler that throws fails the publish, so the outbox keeps the row and sends it
/// again: handlers are idempotent by event id.
/// </summary>
public sealed class InProcessEventBus(IEnumerable<IEventHandler> handlers) : IEventPublisher
{
    private readonly IEventHandler[] _handlers = [.. handlers];
    private readonly Lock _gate = new();
    private ImmutableSubscribers _subscribers = new([]);


    private sealed record ImmutableSubscribers(Func<IntegrationEvent, CancellationToken, Task>[] Handlers);

    /// <summary>Adds a handler; dispose the result to remove it.</summary>
    public IDisposable Subscribe(Func<IntegrationEvent, CancellationToken, Task> handler)
    {
        lock (_gate) _subscribers = new([.. _subscribers.Handlers, handler]);
        return new Subscription(() =>
        {
            lock (_gate) _subscribers = new([.. _subscribers.Handlers.Where(h => h != handler)]);
        });
    }

    public async Task PublishAsync(IntegrationEvent integrationEvent, CancellationToken cancellationToken)
    {
        foreach (var handler in _handlers) await handler.HandleAsync(integrationEvent, cancellationToken);
        foreach (var handler in _subscribers.Handlers) await handler(integrationEvent, cancellationToken);
    }

    private sealed class Subscription(Action dispose) : IDisposable
    {
        public void Dispose() => dispose();
    }
}
