using Berth.Data.Outbox;
using Microsoft.EntityFrameworkCore;

namespace Berth.Collector.Data;

/// <summary>The collector's own data: its run history (and outbox). Each provider subclass carries its own migrations.</summary>
public abstract class CollectorDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<CollectionRun> Runs => Set<CollectionRun>();
    public DbSet<ImmutabilityRule> ImmutabilityRules => Set<ImmutabilityRule>();
    public DbSet<RetentionPolicy> RetentionPolicies => Set<RetentionPolicy>();
    public DbSet<NamespaceQuota> Quotas => Set<NamespaceQuota>();
    public DbSet<NamespaceWindow> Windows => Set<NamespaceWindow>();

    protected override void OnModelCreating(ModelBuilder model)
    {
        model.Entity<CollectionRun>(e =>
        {
            e.ToTable("CollectionRuns");
            e.HasIndex(r => r.StartedAt);
            e.HasIndex(r => r.Status);
            e.Property(r => r.Namespace).HasMaxLength(255);
            e.Property(r => r.Repository).HasMaxLength(255);
            e.Property(r => r.Status).HasMaxLength(16);
            e.Property(r => r.Phase).HasMaxLength(32);
            e.Property(r => r.RequestedBy).HasMaxLength(256);
        });
        model.Entity<ImmutabilityRule>(e =>
        {
            e.ToTable("ImmutabilityRules");
            e.HasIndex(r => r.Namespace);
            e.Property(r => r.Namespace).HasMaxLength(255);
            e.Property(r => r.Repository).HasMaxLength(255);
            e.Property(r => r.TagPattern).HasMaxLength(Policies.ImmutabilityRules.MaxPatternLength);
            e.Property(r => r.CreatedBy).HasMaxLength(256);
        });
        model.Entity<RetentionPolicy>(e =>
        {
            e.ToTable("RetentionPolicies");
            e.HasIndex(p => p.Namespace);
            e.Property(p => p.Namespace).HasMaxLength(255);
            e.Property(p => p.Repository).HasMaxLength(255);
            e.Property(p => p.TagPattern).HasMaxLength(Policies.ImmutabilityRules.MaxPatternLength);
            e.Property(p => p.CreatedBy).HasMaxLength(256);
        });
        model.Entity<NamespaceQuota>(e =>
        {
            e.ToTable("NamespaceQuotas");
            e.HasKey(q => q.Namespace);
            e.Property(q => q.Namespace).HasMaxLength(255);
            e.Property(q => q.SetBy).HasMaxLength(256);
        });
        model.Entity<NamespaceWindow>(e =>
        {
            e.ToTable("NamespaceWindows");
            e.HasKey(w => w.Namespace);
            e.Property(w => w.Namespace).HasMaxLength(255);
            e.Property(w => w.SetBy).HasMaxLength(256);
        });
        model.MapOutbox();
    }
}

public sealed class SqliteCollectorDbContext(DbContextOptions<SqliteCollectorDbContext> options) : CollectorDbContext(options);

public sealed class PostgresCollectorDbContext(DbContextOptions<PostgresCollectorDbContext> options) : CollectorDbContext(options);
