using Berth.Access;
using Berth.Auth.Accounts;
using Berth.Contracts;
using Berth.Contracts.Accounts;
using Berth.Data.Outbox;
using Berth.Auth.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Berth.Auth.Tokens;

/// <summary>
/// Decides what of a token request a caller gets: for each repository scope the
/// actions their role allows (pull needs read; push and delete need write), and
/// for the catalog scope a listing filtered later by the registry. A resource
/// the caller has no role on is left out entirely, so the registry answers 401
/// and does not reveal whether it exists; a resource with some role but not the
/// asked action is kept with what is allowed, so the registry answers 403.
/// Pushing to a repository that does not exist yet registers it (private, the
/// pusher as admin, the organization's default permissions) when the caller may
/// create in that namespace.
/// </summary>
public sealed class AccessGrants(AuthDb authDb, PermissionResolver permissions, IOptions<AuthOptions> options)
{
    public async Task<List<ResourceScope>> GrantAsync(Caller caller, IReadOnlyList<ResourceScope> requested, EventActor actor, CancellationToken cancellationToken)
    {
        var granted = new List<ResourceScope>();
        foreach (var scope in requested)
        {
            if (scope.Type == ResourceScope.Registry)
            {
                if (!caller.IsAnonymous || options.Value.AnonymousPull) granted.Add(scope);
                continue;
            }
            var role = await permissions.GetRoleAsync(caller, scope.Name, cancellationToken);
            if (scope.Allows(ResourceScope.Push) && await RegisterIfNewAsync(caller, scope.Name, actor, cancellationToken))
                role = RepositoryRole.Admin;
            var actions = AllowedActions(role).Where(a => scope.Allows(a)).ToHashSet(StringComparer.Ordinal);
            if (role == RepositoryRole.None) continue;
            granted.Add(new ResourceScope(scope.Type, scope.Name, actions));
        }
        return granted;
    }

    private static IEnumerable<string> AllowedActions(RepositoryRole role) => role switch
    {
        RepositoryRole.Read => [ResourceScope.Pull],
        >= RepositoryRole.Write => [ResourceScope.Pull, ResourceScope.Push, ResourceScope.Delete],
        _ => [],
    };

    /// <summary>Registers <paramref name="repository"/> for its first push; false when it exists or the caller may not create it.</summary>
    private async Task<bool> RegisterIfNewAsync(Caller caller, string repository, EventActor actor, CancellationToken cancellationToken)
    {
        await using (var read = authDb.Open())
        {
            if (await read.Repositories.AnyAsync(r => r.Name == repository, cancellationToken)) return false;
        }
        var @namespace = AccountNames.NamespaceOf(repository);
        if (!await permissions.CanCreateInAsync(caller, @namespace, cancellationToken)) return false;
        return await authDb.WriteAsync(async db =>
        {
            if (await db.Repositories.AnyAsync(r => r.Name == repository, cancellationToken)) return false;
            db.Repositories.Add(new RepositoryRow { Name = repository, Namespace = @namespace ?? "", Visibility = Roles.Private, CreatedAt = authDb.Now() });
            if (caller.Kind == CallerKind.User)
                db.Permissions.Add(new PermissionRow { Repository = repository, SubjectKind = Roles.SubjectUser, Subject = caller.Name, Role = Roles.Admin });
            if (@namespace is not null)
            {
                var defaults = await db.DefaultPermissions.AsNoTracking().Where(d => d.Organization == @namespace).ToListAsync(cancellationToken);
                foreach (var d in defaults.Where(d => !(d.SubjectKind == Roles.SubjectUser && d.Subject == caller.Name)))
                    db.Permissions.Add(new PermissionRow { Repository = repository, SubjectKind = d.SubjectKind, Subject = d.Subject, Role = d.Role });
            }
            db.Publish(new RepositoryRegistered(repository, Roles.Private, caller.Name) { Actor = actor });
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }, cancellationToken);
    }
}
