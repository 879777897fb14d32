using Berth.Contracts;
using Berth.Data.Outbox;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Berth.Messaging;

/// <summary>
/// Hands outbox events to MassTransit, published as their own type so a consumer
/// subscribes to exactly the events it wants. A publish that the broker does not
/// confirm in time fails, and the outbox keeps the row for its next attempt.
/// </summary>
public sealed class MassTransitEventPublisher(IBus bus, IOptions<BusOptions> options) : IEventPublisher
{
    public async Task PublishAsync(IntegrationEvent integrationEvent, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.PublishTimeout);
        await bus.Publish(integrationEvent, integrationEvent.GetType(), context => context.MessageId = integrationEvent.EventId, timeout.Token);
    }
}
