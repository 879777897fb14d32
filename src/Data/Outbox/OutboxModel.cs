using System.Text.Json;
using Berth.Contracts;
using Microsoft.EntityFrameworkCore;

namespace Berth.Data.Outbox;

/// <summary>The outbox table in a module's own schema, and how a change adds its event to it.</summary>
public static class OutboxModel
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The table's name, for the model and for the statements written out (<see cref="PublishSql"/>, the dispatcher's marking).</summary>
    internal const string Table = "outbox_messages";

    public static void MapOutbox(this ModelBuilder model)
    {
        model.Entity<OutboxMessage>(e =>
        {
            e.ToTable(Table);
            e.HasKey(m => m.Id);
            e.Property(m => m.Type).HasMaxLength(200);
            e.HasIndex(m => new { m.SentAt, m.OccurredAt });
        });
    }

    /// <summary>Queues <paramref name="integrationEvent"/>; it is stored when the context saves, inside the caller's transaction.</summary>
    public static void Publish(this DbContext db, IntegrationEvent integrationEvent) => db.Set<OutboxMessage>().Add(Row(integrationEvent));

    /// <summary>
    /// The statement that stores <paramref name="integrationEvent"/>, for a write that sends its
    /// statements as one raw command (one round trip to a database server); its parameters go to
    /// the end of <paramref name="parameters"/>. EF does not see the row, so after the commit the
    /// caller wakes the dispatcher (<see cref="ModuleDatabase{TContext}.Outbox"/>).
    /// </summary>
    public static string PublishSql(IntegrationEvent integrationEvent, List<object> parameters)
    {
        var row = Row(integrationEvent);
        var first = parameters.Count;
        parameters.AddRange([row.Id, row.Type, row.Payload, row.OccurredAt]);
        return $"INSERT INTO {Table} (\"Id\", \"Type\", \"Payload\", \"OccurredAt\", \"Attempts\") " +
            $"VALUES ({{{first}}}, {{{first + 1}}}, {{{first + 2}}}, {{{first + 3}}}, 0);\n";
    }

    private static OutboxMessage Row(IntegrationEvent integrationEvent)
    {
        var type = integrationEvent.GetType();
        return new OutboxMessage
        {
            Id = integrationEvent.EventId,
            Type = type.FullName!,
            Payload = JsonSerializer.Serialize(integrationEvent, type, Json),
            OccurredAt = integrationEvent.OccurredAt.UtcDateTime,
        };
    }
}
