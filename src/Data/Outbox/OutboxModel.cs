using System.Text.Json;
using Berth.Contracts;
using Microsoft.EntityFrameworkCore;

namespace Berth.Data.Outbox;

/// <summary>The outbox table in a module's own schema, and how a change adds its event to it.</summary>
public static class OutboxModel
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static void MapOutbox(this ModelBuilder model)
    {
        model.Entity<OutboxMessage>(e =>
        {
            e.ToTable("outbox_messages");
            e.HasKey(m => m.Id);
            e.Property(m => m.Type).HasMaxLength(200);
            e.HasIndex(m => new { m.SentAt, m.OccurredAt });
        });
    }

    /// <summary>Queues <paramref name="integrationEvent"/>; it is stored when the context saves, inside the caller's transaction.</summary>
    public static void Publish(this DbContext db, IntegrationEvent integrationEvent)
    {
        var type = integrationEvent.GetType();
        db.Set<OutboxMessage>().Add(new OutboxMessage
        {
            Id = integrationEvent.EventId,
            Type = type.FullName!,
            Payload = JsonSerializer.Serialize(integrationEvent, type, Json),
            OccurredAt = integrationEvent.OccurredAt.UtcDateTime,
        });
    }
}
