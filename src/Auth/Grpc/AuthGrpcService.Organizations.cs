using Berth.Auth.Accounts;
using Berth.Auth.Api.V1;
using Berth.Auth.Data;
using Berth.Contracts.Accounts;
using Berth.Data.Outbox;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;

namespace Berth.Auth.Grpc;

/// <summary>Organizations and their teams. The creator becomes the first member of the admin team "owners".</summary>
public sealed partial class AuthGrpcService
{
    public const string OwnersTeam = "owners";

    public override async Task<Organization> CreateOrganization(NameRequest request, ServerCallContext context)
    {
        var caller = await SignedInAsync(context);
        if (caller.Kind != Access.CallerKind.User) throw Denied("only users create organizations");
        if (!AccountNames.IsValidNamespace(request.Name)) throw Invalid("organization names are 2-255 characters of a-z, 0-9 and single . _ - between them");
        await authDb.WriteAsync(async db =>
        {
            if (await db.Namespaces.AnyAsync(n => n.Name == request.Name, context.CancellationToken)) throw Exists($"the name '{request.Name}' is taken");
            var now = authDb.Now();
            db.Namespaces.Add(new NamespaceRow { Name = request.Name, Kind = "organization", CreatedAt = now });
            var owners = new TeamRow { Organization = request.Name, Name = OwnersTeam, Role = Roles.TeamAdmin, CreatedAt = now };
            db.Teams.Add(owners);
            await db.SaveChangesAsync(context.CancellationToken);
            db.TeamMembers.Add(new TeamMemberRow { TeamId = owners.Id, User = caller.Name });
            var actor = Actor(caller, context);
            db.Publish(new OrganizationCreated(request.Name) { Actor = actor });
            db.Publish(new TeamCreated(request.Name, OwnersTeam, Roles.TeamAdmin, null) { Actor = actor });
            db.Publish(new TeamMemberAdded(request.Name, OwnersTeam, caller.Name) { Actor = actor });
            await db.SaveChangesAsync(context.CancellationToken);
            return;
        }, context.CancellationToken);
        return await LoadOrganizationAsync(request.Name, context.CancellationToken);
    }

    public override async Task<Organization> GetOrganization(NameRequest request, ServerCallContext context)
    {
        await NamespaceAdminOrMemberAsync(context, request.Name);
        return await LoadOrganizationAsync(request.Name, context.CancellationToken);
    }

    public override async Task<Empty> DeleteOrganization(NameRequest request, ServerCallContext context)
    {
        await RequireNamespaceKindAsync(request.Name, "organization", context.CancellationToken);
        var caller = await NamespaceAdminAsync(context, request.Name);
        await authDb.WriteAsync(async db =>
        {
            await RequireNoRepositoriesAsync(db, request.Name, context.CancellationToken);
            var teamIds = await db.Teams.Where(t => t.Organization == request.Name).Select(t => t.Id.ToString()).ToListAsync(context.CancellationToken);
            var robots = await db.Robots.Where(r => r.Namespace == request.Name).Select(r => r.Name).ToListAsync(context.CancellationToken);
            await RemoveSubjectPermissionsAsync(db, Roles.SubjectTeam, teamIds, context.CancellationToken);
            await RemoveSubjectPermissionsAsync(db, Roles.SubjectRobot, robots, context.CancellationToken);
            await db.RefreshTokens.Where(t => robots.Contains(t.Account)).ExecuteDeleteAsync(context.CancellationToken);
            await db.Namespaces.Where(n => n.Name == request.Name).ExecuteDeleteAsync(context.CancellationToken);
            db.Publish(new OrganizationDeleted(request.Name) { Actor = Actor(caller, context) });
            await db.SaveChangesAsync(context.CancellationToken);
            return;
        }, context.CancellationToken);
        return new Empty();
    }

    public override async Task<Team> SetTeam(SetTeamRequest request, ServerCallContext context)
    {
        await RequireNamespaceKindAsync(request.Organization, "organization", context.CancellationToken);
        var caller = await NamespaceAdminAsync(context, request.Organization);
        if (!AccountNames.IsValidShortName(request.Name)) throw Invalid("team names start with a-z and have up to 64 of a-z, 0-9 and _");
        if (!Roles.IsTeamRole(request.Role)) throw Invalid("role must be member, creator or admin");
        if (request.LdapGroup.Length > 1024) throw Invalid("ldap_group is too long");
        var ldapGroup = NullIfEmpty(request.LdapGroup);
        await authDb.WriteAsync(async db =>
        {
            var team = await db.Teams.FirstOrDefaultAsync(t => t.Organization == request.Organization && t.Name == request.Name, context.CancellationToken);
            var actor = Actor(caller, context);
            if (team is null)
            {
                db.Teams.Add(new TeamRow { Organization = request.Organization, Name = request.Name, Role = request.Role, LdapGroup = ldapGroup, CreatedAt = authDb.Now() });
                db.Publish(new TeamCreated(request.Organization, request.Name, request.Role, ldapGroup) { Actor = actor });
            }
            else
            {
                if (team.Name == OwnersTeam && request.Role != Roles.TeamAdmin) throw Invalid("the owners team is always admin");
                team.Role = request.Role;
                team.LdapGroup = ldapGroup;
                db.Publish(new TeamChanged(request.Organization, request.Name, request.Role, ldapGroup) { Actor = actor });
            }
            await db.SaveChangesAsync(context.CancellationToken);
            return;
        }, context.CancellationToken);
        return await LoadTeamAsync(request.Organization, request.Name, context.CancellationToken);
    }

    public override async Task<Empty> DeleteTeam(TeamRequest request, ServerCallContext context)
    {
        var caller = await NamespaceAdminAsync(context, request.Organization);
        if (request.Name == OwnersTeam) throw Invalid("the owners team cannot be deleted");
        await authDb.WriteAsync(async db =>
        {
            var team = await db.Teams.FirstOrDefaultAsync(t => t.Organization == request.Organization && t.Name == request.Name, context.CancellationToken)
                ?? throw NotFound($"no team '{Shorten(request.Name)}' in '{Shorten(request.Organization)}'");
            await RemoveSubjectPermissionsAsync(db, Roles.SubjectTeam, [team.Id.ToString()], context.CancellationToken);
            db.Teams.Remove(team);
            db.Publish(new TeamDeleted(request.Organization, request.Name) { Actor = Actor(caller, context) });
            await db.SaveChangesAsync(context.CancellationToken);
            return;
        }, context.CancellationToken);
        return new Empty();
    }

    public override async Task<Team> AddTeamMember(TeamMemberRequest request, ServerCallContext context)
    {
        var caller = await NamespaceAdminAsync(context, request.Organization);
        await authDb.WriteAsync(async db =>
        {
            var team = await FindTeamAsync(db, request.Organization, request.Team, context.CancellationToken);
            if (!await db.Users.AnyAsync(u => u.Name == request.User, context.CancellationToken)) throw NotFound($"no user named '{Shorten(request.User)}'");
            if (await db.TeamMembers.AnyAsync(m => m.TeamId == team.Id && m.User == request.User, context.CancellationToken)) return;
            db.TeamMembers.Add(new TeamMemberRow { TeamId = team.Id, User = request.User });
            db.Publish(new TeamMemberAdded(request.Organization, request.Team, request.User) { Actor = Actor(caller, context) });
            await db.SaveChangesAsync(context.CancellationToken);
            return;
        }, context.CancellationToken);
        return await LoadTeamAsync(request.Organization, request.Team, context.CancellationToken);
    }

    public override async Task<Team> RemoveTeamMember(TeamMemberRequest request, ServerCallContext context)
    {
        var caller = await NamespaceAdminAsync(context, request.Organization);
        await authDb.WriteAsync(async db =>
        {
            var team = await FindTeamAsync(db, request.Organization, request.Team, context.CancellationToken);
            var member = await db.TeamMembers.FirstOrDefaultAsync(m => m.TeamId == team.Id && m.User == request.User, context.CancellationToken);
            if (member is null) return;
            if (team.Name == OwnersTeam && await db.TeamMembers.CountAsync(m => m.TeamId == team.Id, context.CancellationToken) == 1)
                throw new RpcException(new Status(StatusCode.FailedPrecondition, "an organization keeps at least one owner"));
            db.TeamMembers.Remove(member);
            db.Publish(new TeamMemberRemoved(request.Organization, request.Team, request.User) { Actor = Actor(caller, context) });
            await db.SaveChangesAsync(context.CancellationToken);
            return;
        }, context.CancellationToken);
        return await LoadTeamAsync(request.Organization, request.Team, context.CancellationToken);
    }

    /// <summary>Members may see their organization; admins and superusers may see any they administer.</summary>
    private async Task NamespaceAdminOrMemberAsync(ServerCallContext context, string organization)
    {
        var caller = await SignedInAsync(context);
        await RequireNamespaceKindAsync(organization, "organization", context.CancellationToken);
        if (caller.IsSuperuser) return;
        await using var db = authDb.Open();
        var member = await (from m in db.TeamMembers join t in db.Teams on m.TeamId equals t.Id
                            where m.User == caller.Name && t.Organization == organization select t.Id).AnyAsync(context.CancellationToken);
        if (!member) throw Denied($"not a member of '{organization}'");
    }

    private static async Task<TeamRow> FindTeamAsync(AuthDbContext db, string organization, string name, CancellationToken cancellationToken) =>
        await db.Teams.FirstOrDefaultAsync(t => t.Organization == organization && t.Name == name, cancellationToken)
            ?? throw NotFound($"no team '{Shorten(name)}' in '{Shorten(organization)}'");

    private async Task<Organization> LoadOrganizationAsync(string name, CancellationToken cancellationToken)
    {
        await using var db = authDb.Open();
        var row = await db.Namespaces.AsNoTracking().FirstOrDefaultAsync(n => n.Name == name && n.Kind == "organization", cancellationToken)
            ?? throw NotFound($"no organization named '{Shorten(name)}'");
        var organization = new Organization { Name = row.Name, CreatedAt = Stamp(row.CreatedAt) };
        foreach (var team in await db.Teams.AsNoTracking().Where(t => t.Organization == name).OrderBy(t => t.Name).ToListAsync(cancellationToken))
            organization.Teams.Add(await ToMessageAsync(db, team, cancellationToken));
        return organization;
    }

    private async Task<Team> LoadTeamAsync(string organization, string name, CancellationToken cancellationToken)
    {
        await using var db = authDb.Open();
        return await ToMessageAsync(db, await FindTeamAsync(db, organization, name, cancellationToken), cancellationToken);
    }

    private static async Task<Team> ToMessageAsync(AuthDbContext db, TeamRow team, CancellationToken cancellationToken)
    {
        var message = new Team { Organization = team.Organization, Name = team.Name, Role = team.Role, LdapGroup = team.LdapGroup ?? "" };
        message.Members.AddRange(await db.TeamMembers.AsNoTracking().Where(m => m.TeamId == team.Id).OrderBy(m => m.User).Select(m => m.User).ToListAsync(cancellationToken));
        return message;
    }
}
