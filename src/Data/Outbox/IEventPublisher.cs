using Berth.Contracts;

namespace Berth.Data.Outbox;

/// <summary>Where the outbox dispatcher hands events: the in-process bus in the embedded default.</summary>
public interface IEventPublisher
{
    Task PublishAsync(IntegrationEvent integrationEvent, CancellationToken cancellationToken);
}
