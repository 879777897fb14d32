using Berth.Data.Outbox;
using Microsoft.EntityFrameworkCore;

namespace Berth.Registry.Data;

/// <summary>
/// The registry's metadata. The schema is the same for every provider; each
/// provider has its own subclass only so that it can carry its own migrations.
/// </summary>
public abstract class RegistryDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<RepositoryRow> Repositories => Set<RepositoryRow>();
    public DbSet<BlobRow> Blobs => Set<BlobRow>();
    public DbSet<RepositoryBlobRow> RepositoryBlobs => Set<RepositoryBlobRow>();
    public DbSet<ManifestRow> Manifests => Set<ManifestRow>();
    public DbSet<ManifestBlobRow> ManifestBlobs => Set<ManifestBlobRow>();
    public DbSet<ManifestChildRow> ManifestChildren => Set<ManifestChildRow>();
    public DbSet<TagRow> Tags => Set<TagRow>();
    public DbSet<UploadSessionRow> UploadSessions => Set<UploadSessionRow>();
    public DbSet<CollectionTallyRow> CollectionTallies => Set<CollectionTallyRow>();

    protected override void OnModelCreating(ModelBuilder model)
    {
        model.Entity<RepositoryRow>(e =>
        {
            e.ToTable("Repositories");
            e.HasIndex(r => r.Name).IsUnique();
            e.Property(r => r.Name).HasMaxLength(255);
        });
        model.Entity<BlobRow>(e =>
        {
            e.ToTable("Blobs");
            e.HasKey(b => b.Digest);
            e.Property(b => b.Digest).HasMaxLength(200);
        });
        model.Entity<RepositoryBlobRow>(e =>
        {
            e.ToTable("RepositoryBlobs");
            e.HasKey(l => new { l.RepositoryId, l.Digest });
            e.HasIndex(l => l.Digest);
            e.HasOne<RepositoryRow>().WithMany().HasForeignKey(l => l.RepositoryId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<BlobRow>().WithMany().HasForeignKey(l => l.Digest).OnDelete(DeleteBehavior.Restrict);
        });
        model.Entity<ManifestRow>(e =>
        {
            e.ToTable("Manifests");
            e.HasIndex(m => new { m.RepositoryId, m.Digest }).IsUnique();
            e.HasIndex(m => new { m.RepositoryId, m.SubjectDigest });
            e.HasOne<RepositoryRow>().WithMany().HasForeignKey(m => m.RepositoryId).OnDelete(DeleteBehavior.Cascade);
        });
        model.Entity<ManifestBlobRow>(e =>
        {
            e.ToTable("ManifestBlobs");
            e.HasKey(r => new { r.ManifestId, r.Digest });
            e.HasIndex(r => r.Digest);
            e.HasOne<ManifestRow>().WithMany().HasForeignKey(r => r.ManifestId).OnDelete(DeleteBehavior.Cascade);
        });
        model.Entity<ManifestChildRow>(e =>
        {
            e.ToTable("ManifestChildren");
            e.HasKey(r => new { r.ParentId, r.ChildId });
            e.HasIndex(r => r.ChildId);
            e.HasOne<ManifestRow>().WithMany().HasForeignKey(r => r.ParentId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<ManifestRow>().WithMany().HasForeignKey(r => r.ChildId).OnDelete(DeleteBehavior.Restrict);
        });
        model.Entity<TagRow>(e =>
        {
            e.ToTable("Tags");
            // At most one live row per tag name; concurrent moves collide here and retry.
            e.HasIndex(t => new { t.RepositoryId, t.Name }).IsUnique().HasFilter("\"EndedAt\" IS NULL").HasDatabaseName("IX_Tags_Live");
            e.HasIndex(t => new { t.RepositoryId, t.Name, t.StartedAt });
            e.HasIndex(t => t.ManifestId);
            // Live tags that will expire, for the watcher that ends them.
            e.HasIndex(t => t.ExpiresAt).HasFilter("\"EndedAt\" IS NULL AND \"ExpiresAt\" IS NOT NULL").HasDatabaseName("IX_Tags_Expiring");
            e.Property(t => t.Name).HasMaxLength(128);
            e.HasOne<RepositoryRow>().WithMany().HasForeignKey(t => t.RepositoryId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<ManifestRow>().WithMany().HasForeignKey(t => t.ManifestId).OnDelete(DeleteBehavior.Restrict);
        });
        model.Entity<UploadSessionRow>(e =>
        {
            e.ToTable("UploadSessions");
            e.HasIndex(u => u.StartedAt);
            e.HasOne<RepositoryRow>().WithMany().HasForeignKey(u => u.RepositoryId).OnDelete(DeleteBehavior.Cascade);
        });
        model.Entity<CollectionTallyRow>(e =>
        {
            e.ToTable("CollectionTallies");
            e.HasKey(t => t.RunId);
        });
        model.MapOutbox();
        ConfigureProvider(model);
    }

    /// <summary>Provider-specific touches to the shared schema.</summary>
    protected virtual void ConfigureProvider(ModelBuilder model)
    {
    }
}

public sealed class SqliteRegistryDbContext(DbContextOptions<SqliteRegistryDbContext> options) : RegistryDbContext(options);

public sealed class PostgresRegistryDbContext(DbContextOptions<PostgresRegistryDbContext> options) : RegistryDbContext(options)
{
    /// <summary>Listings must be in byte order, as the spec's "lexical" means and SQLite does; the "C" collation gives that.</summary>
    protected override void ConfigureProvider(ModelBuilder model)
    {
        model.Entity<RepositoryRow>().Property(r => r.Name).UseCollation("C");
        model.Entity<TagRow>().Property(t => t.Name).UseCollation("C");
    }
}
