using Berth.Access;
using Berth.Auth.Accounts;
using Berth.Auth.Api.V1;
using Berth.Auth.Data;
using Berth.Contracts.Accounts;
using Berth.Data.Outbox;
using Berth.Oci;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;

namespace Berth.Auth.Grpc;

/// <summary>Who may do what with a repository, and whether it is public. Repository admins decide.</summary>
public sealed partial class AuthGrpcService
{
    public override async Task<Permission> SetPermission(SetPermissionRequest request, ServerCallContext context)
    {
        var caller = await RepositoryAdminAsync(context, request.Repository);
        if (!Roles.TryParseRepositoryRole(request.Role, out _)) throw Invalid("role must be read, write or admin");
        var subject = await ResolveSubjectAsync(request.SubjectKind, request.Subject, AccountNames.NamespaceOf(request.Repository), context.CancellationToken);
        await authDb.WriteAsync(async db =>
        {
            await EnsureRegisteredAsync(db, request.Repository, caller, context);
            var row = await db.Permissions.FirstOrDefaultAsync(p => p.Repository == request.Repository && p.SubjectKind == request.SubjectKind && p.Subject == subject, context.CancellationToken);
            if (row is null) db.Permissions.Add(row = new PermissionRow { Repository = request.Repository, SubjectKind = request.SubjectKind, Subject = subject });
            row.Role = request.Role;
            db.Publish(new RepositoryPermissionSet(request.Repository, request.SubjectKind, request.Subject, request.Role) { Actor = Actor(caller, context) });
            await db.SaveChangesAsync(context.CancellationToken);
            return;
        }, context.CancellationToken);
        return new Permission { SubjectKind = request.SubjectKind, Subject = request.Subject, Role = request.Role };
    }

    public override async Task<Empty> RemovePermission(RemovePermissionRequest request, ServerCallContext context)
    {
        var caller = await RepositoryAdminAsync(context, request.Repository);
        var subject = await ResolveSubjectAsync(request.SubjectKind, request.Subject, AccountNames.NamespaceOf(request.Repository), context.CancellationToken);
        await authDb.WriteAsync(async db =>
        {
            var removed = await db.Permissions.Where(p => p.Repository == request.Repository && p.SubjectKind == request.SubjectKind && p.Subject == subject)
                .ExecuteDeleteAsync(context.CancellationToken);
            if (removed == 0) throw NotFound("no such permission");
            db.Publish(new RepositoryPermissionRemoved(request.Repository, request.SubjectKind, request.Subject) { Actor = Actor(caller, context) });
            await db.SaveChangesAsync(context.CancellationToken);
            return;
        }, context.CancellationToken);
        return new Empty();
    }

    public override async Task<ListPermissionsResponse> ListPermissions(RepositoryRequest request, ServerCallContext context)
    {
        await RepositoryAdminAsync(context, request.Repository);
        await using var db = authDb.Open();
        var rows = await db.Permissions.AsNoTracking().Where(p => p.Repository == request.Repository).ToListAsync(context.CancellationToken);
        return await ToMessageAsync(db, rows.Select(r => (r.SubjectKind, r.Subject, r.Role)), context.CancellationToken);
    }

    public override async Task<RepositoryAccess> SetVisibility(SetVisibilityRequest request, ServerCallContext context)
    {
        var caller = await RepositoryAdminAsync(context, request.Repository);
        if (!Roles.IsVisibility(request.Visibility)) throw Invalid("visibility must be public or private");
        await authDb.WriteAsync(async db =>
        {
            var row = await EnsureRegisteredAsync(db, request.Repository, caller, context);
            if (row.Visibility == request.Visibility) return;
            row.Visibility = request.Visibility;
            db.Publish(new RepositoryVisibilityChanged(request.Repository, request.Visibility) { Actor = Actor(caller, context) });
            await db.SaveChangesAsync(context.CancellationToken);
            return;
        }, context.CancellationToken);
        return new RepositoryAccess { Repository = request.Repository, Visibility = request.Visibility };
    }

    public override async Task<Permission> SetDefaultPermission(SetDefaultPermissionRequest request, ServerCallContext context)
    {
        await RequireNamespaceKindAsync(request.Organization, "organization", context.CancellationToken);
        var caller = await NamespaceAdminAsync(context, request.Organization);
        if (!Roles.TryParseRepositoryRole(request.Role, out _)) throw Invalid("role must be read, write or admin");
        var subject = await ResolveSubjectAsync(request.SubjectKind, request.Subject, request.Organization, context.CancellationToken);
        await authDb.WriteAsync(async db =>
        {
            var row = await db.DefaultPermissions.FirstOrDefaultAsync(p => p.Organization == request.Organization && p.SubjectKind == request.SubjectKind && p.Subject == subject, context.CancellationToken);
            if (row is null) db.DefaultPermissions.Add(row = new DefaultPermissionRow { Organization = request.Organization, SubjectKind = request.SubjectKind, Subject = subject });
            row.Role = request.Role;
            db.Publish(new DefaultPermissionSet(request.Organization, request.SubjectKind, request.Subject, request.Role) { Actor = Actor(caller, context) });
            await db.SaveChangesAsync(context.CancellationToken);
            return;
        }, context.CancellationToken);
        return new Permission { SubjectKind = request.SubjectKind, Subject = request.Subject, Role = request.Role };
    }

    public override async Task<Empty> RemoveDefaultPermission(RemoveDefaultPermissionRequest request, ServerCallContext context)
    {
        var caller = await NamespaceAdminAsync(context, request.Organization);
        var subject = await ResolveSubjectAsync(request.SubjectKind, request.Subject, request.Organization, context.CancellationToken);
        await authDb.WriteAsync(async db =>
        {
            var removed = await db.DefaultPermissions.Where(p => p.Organization == request.Organization && p.SubjectKind == request.SubjectKind && p.Subject == subject)
                .ExecuteDeleteAsync(context.CancellationToken);
            if (removed == 0) throw NotFound("no such default permission");
            db.Publish(new DefaultPermissionRemoved(request.Organization, request.SubjectKind, request.Subject) { Actor = Actor(caller, context) });
            await db.SaveChangesAsync(context.CancellationToken);
            return;
        }, context.CancellationToken);
        return new Empty();
    }

    public override async Task<ListPermissionsResponse> ListDefaultPermissions(NameRequest request, ServerCallContext context)
    {
        await NamespaceAdminAsync(context, request.Name);
        await using var db = authDb.Open();
        var rows = await db.DefaultPermissions.AsNoTracking().Where(p => p.Organization == request.Name).ToListAsync(context.CancellationToken);
        return await ToMessageAsync(db, rows.Select(r => (r.SubjectKind, r.Subject, r.Role)), context.CancellationToken);
    }

    public override async Task<SigningKey> RotateSigningKey(Empty request, ServerCallContext context)
    {
        WithPassword(await SuperuserAsync(context));
        return new SigningKey { KeyId = await signingKeys.RotateAsync(context.CancellationToken) };
    }

    private async Task<Caller> RepositoryAdminAsync(ServerCallContext context, string repository)
    {
        if (!Names.IsValidRepositoryName(repository)) throw Invalid("not a valid repository name");
        var caller = await SignedInAsync(context);
        var role = await permissions.GetRoleAsync(caller, repository, context.CancellationToken);
        ApiCaller.Require(caller, role, RepositoryRole.Admin, $"administer '{repository}'");
        return caller;
    }

    /// <summary>
    /// A repository pushed before Auth knew of it (or before auth was on) gets its
    /// Auth record when an admin first sets something on it: private, as on push.
    /// </summary>
    private async Task<RepositoryRow> EnsureRegisteredAsync(AuthDbContext db, string repository, Caller caller, ServerCallContext context)
    {
        var row = await db.Repositories.FirstOrDefaultAsync(r => r.Name == repository, context.CancellationToken);
        if (row is not null) return row;
        row = new RepositoryRow { Name = repository, Namespace = AccountNames.NamespaceOf(repository) ?? "", Visibility = Roles.Private, CreatedAt = authDb.Now() };
        db.Repositories.Add(row);
        db.Publish(new RepositoryRegistered(repository, Roles.Private, caller.Name) { Actor = Actor(caller, context) });
        await db.SaveChangesAsync(context.CancellationToken);
        return row;
    }

    /// <summary>
    /// The stored subject of a permission: a user or robot name, or a team's id.
    /// Teams are named "team" (in <paramref name="organization"/>) or "organization/team".
    /// Robots must belong to the repository's namespace.
    /// </summary>
    private async Task<string> ResolveSubjectAsync(string kind, string subject, string? organization, CancellationToken cancellationToken)
    {
        if (!Roles.IsSubjectKind(kind)) throw Invalid("subject_kind must be user, team or robot");
        await using var db = authDb.Open();
        switch (kind)
        {
            case Roles.SubjectUser:
                if (!await db.Users.AnyAsync(u => u.Name == subject, cancellationToken)) throw NotFound($"no user named '{Shorten(subject)}'");
                return subject;
            case Roles.SubjectRobot:
                if (!subject.StartsWith(organization + "+", StringComparison.Ordinal)) throw Invalid("a robot may only be given access in its own namespace");
                if (!await db.Robots.AnyAsync(r => r.Name == subject, cancellationToken)) throw NotFound($"no robot named '{Shorten(subject)}'");
                return subject;
            default:
                var slash = subject.IndexOf('/');
                var (org, team) = slash > 0 ? (subject[..slash], subject[(slash + 1)..]) : (organization ?? "", subject);
                if (org != organization) throw Invalid("a team may only be given access in its own organization");
                var id = await db.Teams.Where(t => t.Organization == org && t.Name == team).Select(t => (long?)t.Id).FirstOrDefaultAsync(cancellationToken)
                    ?? throw NotFound($"no team '{Shorten(team)}' in '{Shorten(org)}'");
                return id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    private static async Task<ListPermissionsResponse> ToMessageAsync(AuthDbContext db, IEnumerable<(string Kind, string Subject, string Role)> rows, CancellationToken cancellationToken)
    {
        var list = rows.ToList();
        var teamIds = list.Where(r => r.Kind == Roles.SubjectTeam).Select(r => long.Parse(r.Subject, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        var teams = await db.Teams.AsNoTracking().Where(t => teamIds.Contains(t.Id)).ToDictionaryAsync(t => t.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), t => $"{t.Organization}/{t.Name}", cancellationToken);
        var response = new ListPermissionsResponse();
        response.Permissions.AddRange(list
            .Select(r => new Permission { SubjectKind = r.Kind, Subject = r.Kind == Roles.SubjectTeam ? teams.GetValueOrDefault(r.Subject, r.Subject) : r.Subject, Role = r.Role })
            .OrderBy(p => p.SubjectKind, StringComparer.Ordinal).ThenBy(p => p.Subject, StringComparer.Ordinal));
        return response;
    }
}
