using Berth.Access;
using Berth.Auth.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Berth.Auth.Accounts;

/// <summary>
/// Works out a caller's role on a repository from everything that can give one:
/// superuser, owning the namespace, an admin team of the owning organization,
/// explicit permissions for the user, their teams or the robot, and public
/// visibility. The highest wins; nothing else gives access.
/// </summary>
public sealed class PermissionResolver(AuthDb authDb, IOptions<AuthOptions> options)
{
    public async Task<RepositoryRole> GetRoleAsync(Caller caller, string repository, CancellationToken cancellationToken)
    {
        if (caller.IsSuperuser) return RepositoryRole.Admin;
        await using var db = authDb.Open();
        var row = await db.Repositories.AsNoTracking().FirstOrDefaultAsync(r => r.Name == repository, cancellationToken);
        var role = await NamespaceRoleAsync(db, caller, AccountNames.NamespaceOf(repository), cancellationToken);
        if (row is null) return role;

        if (!caller.IsAnonymous)
        {
            var subjects = await SubjectsAsync(db, caller, cancellationToken);
            var granted = await db.Permissions.AsNoTracking()
                .Where(p => p.Repository == repository && subjects.Contains(p.SubjectKind + ":" + p.Subject))
                .Select(p => p.Role).ToListAsync(cancellationToken);
            foreach (var text in granted) role = Max(role, Roles.ParseStored(text));
        }
        if (row.Visibility == Roles.Public && (!caller.IsAnonymous || options.Value.AnonymousPull)) role = Max(role, RepositoryRole.Read);
        return role;
    }

    /// <summary>May the caller create a repository in <paramref name="namespace"/> by pushing to it?</summary>
    public async Task<bool> CanCreateInAsync(Caller caller, string? @namespace, CancellationToken cancellationToken)
    {
        if (caller.IsSuperuser) return true;
        if (@namespace is null || caller.Kind != CallerKind.User) return false;
        if (@namespace == caller.Name) return true;
        await using var db = authDb.Open();
        return await (from m in db.TeamMembers
                      join t in db.Teams on m.TeamId equals t.Id
                      where m.User == caller.Name && t.Organization == @namespace && (t.Role == Roles.TeamCreator || t.Role == Roles.TeamAdmin)
                      select t.Id).AnyAsync(cancellationToken);
    }

    /// <summary>Is the caller an administrator of the organization (an admin team member) or a superuser?</summary>
    public async Task<bool> IsOrganizationAdminAsync(Caller caller, string organization, CancellationToken cancellationToken)
    {
        if (caller.IsSuperuser) return true;
        if (caller.Kind != CallerKind.User) return false;
        await using var db = authDb.Open();
        return await NamespaceRoleAsync(db, caller, organization, cancellationToken) == RepositoryRole.Admin;
    }

    /// <summary>
    /// Which repositories the caller may see in listings: built once per listing
    /// from the caller's namespaces, permissions and the public repositories.
    /// </summary>
    public async Task<ReadableSet> GetReadableAsync(Caller caller, CancellationToken cancellationToken)
    {
        if (caller.IsSuperuser) return ReadableSet.Everything;
        await using var db = authDb.Open();
        var readable = new HashSet<string>(StringComparer.Ordinal);
        if (!caller.IsAnonymous || options.Value.AnonymousPull)
            readable.UnionWith(await db.Repositories.AsNoTracking().Where(r => r.Visibility == Roles.Public).Select(r => r.Name).ToListAsync(cancellationToken));
        var adminNamespaces = new HashSet<string>(StringComparer.Ordinal);
        if (!caller.IsAnonymous)
        {
            var subjects = await SubjectsAsync(db, caller, cancellationToken);
            readable.UnionWith(await db.Permissions.AsNoTracking()
                .Where(p => subjects.Contains(p.SubjectKind + ":" + p.Subject)).Select(p => p.Repository).ToListAsync(cancellationToken));
            if (caller.Kind == CallerKind.User)
            {
                adminNamespaces.Add(caller.Name);
                adminNamespaces.UnionWith(await AdminOrganizationsAsync(db, caller.Name, cancellationToken));
            }
        }
        return new ReadableSet(false, readable, adminNamespaces);
    }

    private static async Task<RepositoryRole> NamespaceRoleAsync(AuthDbContext db, Caller caller, string? @namespace, CancellationToken cancellationToken)
    {
        if (@namespace is null || caller.Kind != CallerKind.User) return RepositoryRole.None;
        if (@namespace == caller.Name) return RepositoryRole.Admin;
        var admin = await (from m in db.TeamMembers
                           join t in db.Teams on m.TeamId equals t.Id
                           where m.User == caller.Name && t.Organization == @namespace && t.Role == Roles.TeamAdmin
                           select t.Id).AnyAsync(cancellationToken);
        return admin ? RepositoryRole.Admin : RepositoryRole.None;
    }

    private static Task<List<string>> AdminOrganizationsAsync(AuthDbContext db, string user, CancellationToken cancellationToken) =>
        (from m in db.TeamMembers
         join t in db.Teams on m.TeamId equals t.Id
         where m.User == user && t.Role == Roles.TeamAdmin
         select t.Organization).Distinct().ToListAsync(cancellationToken);

    /// <summary>The permission subjects that stand for the caller: "user:alice", "team:12", "robot:acme+ci".</summary>
    private static async Task<List<string>> SubjectsAsync(AuthDbContext db, Caller caller, CancellationToken cancellationToken)
    {
        if (caller.Kind == CallerKind.Robot) return [$"{Roles.SubjectRobot}:{caller.Name}"];
        var teams = await db.TeamMembers.AsNoTracking().Where(m => m.User == caller.Name).Select(m => m.TeamId).ToListAsync(cancellationToken);
        return [$"{Roles.SubjectUser}:{caller.Name}", .. teams.Select(t => $"{Roles.SubjectTeam}:{t}")];
    }

    private static RepositoryRole Max(RepositoryRole a, RepositoryRole b) => a > b ? a : b;
}
