using Berth.Data.Inbox;
using Microsoft.EntityFrameworkCore;

namespace Berth.AuditLog.Data;

/// <summary>
/// The audit log's own schema: entries, sink checkpoints and the inbox of handled
/// events. The same model for every provider; each provider has its own subclass
/// only to carry its own migrations.
/// </summary>
public abstract class AuditLogDbContext(DbContextOptions options) : DbContext(options)
{
    /// <summary>The kind index's filter, in SQL both providers read the same way.</summary>
    internal const string NotPullsFilter = "\"Kind\" <> '" + Recording.AuditKinds.PullRepo + "'";

    public DbSet<AuditEntry> Entries => Set<AuditEntry>();

    public DbSet<PullEntry> Pulls => Set<PullEntry>();

    public DbSet<AuditName> Names => Set<AuditName>();

    public DbSet<SinkCheckpoint> Checkpoints => Set<SinkCheckpoint>();

    /// <summary>
    /// The highest id the entry and pull tables hold. Ids commit in id order (one writer at a
    /// time on SQLite, the insert lock on PostgreSQL), so every lower id has committed too:
    /// reads of both tables bounded by it read one log, whatever commits between them. Unbounded,
    /// an entry committed between the read of entries and the read of pulls could be passed over.
    /// </summary>
    public async Task<long> LastIdAsync(CancellationToken cancellationToken) => Math.Max(
        await Entries.MaxAsync(e => (long?)e.Id, cancellationToken) ?? 0,
        await Pulls.MaxAsync(p => (long?)p.Id, cancellationToken) ?? 0);

    protected override void OnModelCreating(ModelBuilder model)
    {
        model.Entity<AuditEntry>(e =>
        {
            e.ToTable("audit_entries");
            e.HasKey(x => x.Id);
            e.HasIndex(x => x.EntryId).IsUnique();
            e.Property(x => x.Kind).HasMaxLength(64);
            e.Property(x => x.Namespace).HasMaxLength(256);
            e.Property(x => x.Repository).HasMaxLength(512);
            e.Property(x => x.Performer).HasMaxLength(256);
            e.Property(x => x.PerformerKind).HasMaxLength(32);
            e.Property(x => x.Address).HasMaxLength(64);
            e.Property(x => x.UserAgent).HasMaxLength(512);
            e.Property(x => x.RequestId).HasMaxLength(128);
            e.Property(x => x.SourceEvent).HasMaxLength(200);
            // The searches the API offers: by namespace, repository, performer or kind, newest first.
            e.HasIndex(x => new { x.Namespace, x.Id });
            e.HasIndex(x => new { x.Repository, x.Id });
            e.HasIndex(x => new { x.Performer, x.Id });
            // The kind index leaves pulls out: from when pulls were entries (those recorded then
            // still are), it spared each one an index. A search for other kinds names the
            // filter (AuditFilter) to use it.
            e.HasIndex(x => new { x.Kind, x.Id }).HasFilter(NotPullsFilter);
            e.HasIndex(x => x.OccurredAt);
        });
        model.Entity<PullEntry>(e =>
        {
            e.ToTable("audit_pulls");
            e.HasKey(x => x.Id);
            // Given by the recorder from the entry table's sequence, never by this table.
            e.Property(x => x.Id).ValueGeneratedNever();
            e.HasIndex(x => x.EntryId).IsUnique();
            e.Property(x => x.RequestId).HasMaxLength(128);
            // The same searches as for entries, on the ids of the names searched for.
            e.HasIndex(x => new { x.NamespaceId, x.Id });
            e.HasIndex(x => new { x.RepositoryId, x.Id });
            e.HasIndex(x => new { x.PerformerId, x.Id });
            e.HasIndex(x => x.OccurredTicks);
        });
        model.Entity<AuditName>(e =>
        {
            e.ToTable("audit_names");
            e.HasKey(x => x.Id);
            e.Property(x => x.Name).HasMaxLength(AuditName.MaxLength);
            e.HasIndex(x => x.Name).IsUnique();
        });
        model.Entity<SinkCheckpoint>(e =>
        {
            e.ToTable("sink_checkpoints");
            e.HasKey(x => x.Sink);
            e.Property(x => x.Sink).HasMaxLength(64);
        });
        model.MapInbox();
    }
}

public sealed class SqliteAuditLogDbContext(DbContextOptions<SqliteAuditLogDbContext> options) : AuditLogDbContext(options)
{
    protected override void OnModelCreating(ModelBuilder model)
    {
        base.OnModelCreating(model);
        // 16 bytes rather than SQLite's default 36-character text: the pull table's unique
        // index holds one for every pull. PostgreSQL's uuid is 16 bytes already. Big-endian,
        // as a uuid is written: a version 7 id then sorts by its time, so the index grows at
        // its end (.NET's own byte order puts the first fields' bytes backwards).
        model.Entity<PullEntry>().Property(x => x.EntryId).HasConversion(id => id.ToByteArray(true), bytes => new Guid(bytes, true));
    }
}

public sealed class PostgresAuditLogDbContext(DbContextOptions<PostgresAuditLogDbContext> options) : AuditLogDbContext(options);
