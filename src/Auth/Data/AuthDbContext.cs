using Berth.Data.Outbox;
using Microsoft.EntityFrameworkCore;

namespace Berth.Auth.Data;

/// <summary>
/// Accounts, teams, robots, tokens and permissions. The schema is the same for
/// every provider; each provider has its own subclass only to carry its own migrations.
/// </summary>
public abstract class AuthDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<NamespaceRow> Namespaces => Set<NamespaceRow>();
    public DbSet<UserRow> Users => Set<UserRow>();
    public DbSet<TeamRow> Teams => Set<TeamRow>();
    public DbSet<TeamMemberRow> TeamMembers => Set<TeamMemberRow>();
    public DbSet<RobotRow> Robots => Set<RobotRow>();
    public DbSet<AppTokenRow> AppTokens => Set<AppTokenRow>();
    public DbSet<RepositoryRow> Repositories => Set<RepositoryRow>();
    public DbSet<PermissionRow> Permissions => Set<PermissionRow>();
    public DbSet<DefaultPermissionRow> DefaultPermissions => Set<DefaultPermissionRow>();
    public DbSet<LoginFailureRow> LoginFailures => Set<LoginFailureRow>();
    public DbSet<RefreshTokenRow> RefreshTokens => Set<RefreshTokenRow>();
    public DbSet<SigningKeyRow> SigningKeys => Set<SigningKeyRow>();

    protected override void OnModelCreating(ModelBuilder model)
    {
        model.Entity<NamespaceRow>(e =>
        {
            e.ToTable("Namespaces");
            e.HasKey(n => n.Name);
            e.Property(n => n.Name).HasMaxLength(255);
        });
        model.Entity<UserRow>(e =>
        {
            e.ToTable("Users");
            e.HasKey(u => u.Name);
            e.Property(u => u.Name).HasMaxLength(255);
            e.HasOne<NamespaceRow>().WithOne().HasForeignKey<UserRow>(u => u.Name).OnDelete(DeleteBehavior.Cascade);
        });
        model.Entity<TeamRow>(e =>
        {
            e.ToTable("Teams");
            e.HasIndex(t => new { t.Organization, t.Name }).IsUnique();
            e.HasOne<NamespaceRow>().WithMany().HasForeignKey(t => t.Organization).OnDelete(DeleteBehavior.Cascade);
        });
        model.Entity<TeamMemberRow>(e =>
        {
            e.ToTable("TeamMembers");
            e.HasKey(m => new { m.TeamId, m.User });
            e.HasIndex(m => m.User);
            e.HasOne<TeamRow>().WithMany().HasForeignKey(m => m.TeamId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<UserRow>().WithMany().HasForeignKey(m => m.User).OnDelete(DeleteBehavior.Cascade);
        });
        model.Entity<RobotRow>(e =>
        {
            e.ToTable("Robots");
            e.HasKey(r => r.Name);
            e.HasIndex(r => r.Namespace);
            e.HasOne<NamespaceRow>().WithMany().HasForeignKey(r => r.Namespace).OnDelete(DeleteBehavior.Cascade);
        });
        model.Entity<AppTokenRow>(e =>
        {
            e.ToTable("AppTokens");
            e.HasKey(t => t.Id);
            e.HasIndex(t => t.TokenHash).IsUnique();
            e.HasIndex(t => t.User);
            e.HasOne<UserRow>().WithMany().HasForeignKey(t => t.User).OnDelete(DeleteBehavior.Cascade);
        });
        model.Entity<RepositoryRow>(e =>
        {
            e.ToTable("Repositories");
            e.HasKey(r => r.Name);
            e.HasIndex(r => r.Namespace);
        });
        model.Entity<PermissionRow>(e =>
        {
            e.ToTable("Permissions");
            e.HasIndex(p => new { p.Repository, p.SubjectKind, p.Subject }).IsUnique();
            e.HasIndex(p => new { p.SubjectKind, p.Subject });
            e.HasOne<RepositoryRow>().WithMany().HasForeignKey(p => p.Repository).OnDelete(DeleteBehavior.Cascade);
        });
        model.Entity<DefaultPermissionRow>(e =>
        {
            e.ToTable("DefaultPermissions");
            e.HasIndex(p => new { p.Organization, p.SubjectKind, p.Subject }).IsUnique();
            e.HasOne<NamespaceRow>().WithMany().HasForeignKey(p => p.Organization).OnDelete(DeleteBehavior.Cascade);
        });
        model.Entity<LoginFailureRow>(e =>
        {
            e.ToTable("LoginFailures");
            e.HasKey(f => f.Key);
        });
        model.Entity<RefreshTokenRow>(e =>
        {
            e.ToTable("RefreshTokens");
            e.HasKey(t => t.TokenHash);
            e.HasIndex(t => t.Account);
        });
        model.Entity<SigningKeyRow>(e =>
        {
            e.ToTable("SigningKeys");
            e.HasKey(k => k.KeyId);
        });
        model.MapOutbox();
    }
}

public sealed class SqliteAuthDbContext(DbContextOptions<SqliteAuthDbContext> options) : AuthDbContext(options);

public sealed class PostgresAuthDbContext(DbContextOptions<PostgresAuthDbContext> options) : AuthDbContext(options)
{
    protected override void OnModelCreating(ModelBuilder model)
    {
        base.OnModelCreating(model);
        // Byte order, as on SQLite, so listings page the same way on both.
        model.Entity<RepositoryRow>().Property(r => r.Name).UseCollation("C");
        model.Entity<UserRow>().Property(u => u.Name).UseCollation("C");
    }
}
