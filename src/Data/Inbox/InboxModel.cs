using Microsoft.EntityFrameworkCore;

namespace Berth.Data.Inbox;

/// <summary>The inbox table in a consuming module's own schema.</summary>
public static class InboxModel
{
    public static void MapInbox(this ModelBuilder model)
    {
        model.Entity<InboxMessage>(e =>
        {
            e.ToTable("inbox_messages");
            e.HasKey(m => new { m.EventId, m.Consumer });
            e.Property(m => m.Consumer).HasMaxLength(200);
        });
    }
}
