using Berth.Contracts;

namespace Berth.Data.Outbox;

/// <summary>
/// The embedded default's bus: every subscriber in this process gets each
/// event. Subscribers are idempotent by event id, because the outbox delivers
/// at least once.
/// </summary>
public sealed class InProcessEventBus : IEventPublisher
{
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
        foreach (var handler in _subscribers.Handlers) await handler(integrationEvent, cancellationToken);
    }

    private sealed class Subscription(Action dispose) : IDisposable
    {
        public void Dispose() => dispose();
    }
}
