using Berth.Contracts;

namespace Berth.Data.Outbox;

/// <summary>
/// A module's consumer of integration events. It receives every event (it picks
/// what it wants), at least once: handlers are idempotent by event id (see
/// <c>ProcessOnceAsync</c>). A handler that throws gets the event again later.
/// </summary>
public interface IEventHandler
{
    /// <summary>The consumer's stable name: its queue on RabbitMQ, its inbox key.</summary>
    string Name { get; }

    Task HandleAsync(IntegrationEvent integrationEvent, CancellationToken cancellationToken);
}
