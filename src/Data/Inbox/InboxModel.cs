using Microsoft.EntityFrameworkCore;

namespace Berth.Data.Inbox;

/// <summary>The inbox table in a consuming module's own schema.</summary>
public static class InboxModel
{
    /// <summary>The table's name, which <see cref="InboxClaim"/> writes to directly on PostgreSQL; its columns are named as the properties are.</summary>
    internal const string Table = "inbox_messages";

    public static void MapInbox(this ModelBuilder model)
    {
        model.Entity<InboxMessage>(e =>
        {
            e.ToTable(Table);
            e.HasKey(m => new { m.EventId, m.Consumer });
            e.Property(m => m.Consumer).HasMaxLength(200);
        });
    }
}
