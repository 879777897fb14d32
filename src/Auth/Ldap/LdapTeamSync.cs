using Berth.Access;
using Berth.Auth.Data;
using Berth.Contracts;
using Berth.Contracts.Accounts;
using Berth.Data.Outbox;
using Microsoft.EntityFrameworkCore;

namespace Berth.Auth.Ldap;

/// <summary>
/// After a directory login: makes sure the user exists here (source "ldap", no
/// local password) and that their membership of every team linked to an LDAP
/// group matches the directory, adding and removing as needed, with an event per change.
/// </summary>
public sealed class LdapTeamSync(AuthDb authDb)
{
    /// <summary>The caller the directory user logs in as; null when their name is already an organization's here.</summary>
    public Task<Caller?> SyncAsync(DirectoryUser user, CancellationToken cancellationToken) =>
        authDb.WriteAsync<Caller?>(async db =>
        {
            var now = authDb.Now();
            var actor = EventActor.System;
            var account = await db.Users.FirstOrDefaultAsync(u => u.Name == user.Name, cancellationToken);
            if (account is null)
            {
                // A directory user must not take over (or, inserting a duplicate namespace, fail on) an organization's name.
                if (await db.Namespaces.AnyAsync(n => n.Name == user.Name, cancellationToken)) return null;
                db.Namespaces.Add(new NamespaceRow { Name = user.Name, Kind = "user", CreatedAt = now });
                account = new UserRow { Name = user.Name, Email = user.Email, Source = "ldap", CreatedAt = now };
                db.Users.Add(account);
                db.Publish(new UserCreated(user.Name, "ldap", false) { Actor = actor });
            }
            else if (user.Email is not null)
            {
                account.Email = user.Email;
            }

            var groups = user.GroupDns.ToHashSet(StringComparer.OrdinalIgnoreCase);
            var linked = await db.Teams.Where(t => t.LdapGroup != null).ToListAsync(cancellationToken);
            var memberOf = (await db.TeamMembers.Where(m => m.User == user.Name).Select(m => m.TeamId).ToListAsync(cancellationToken)).ToHashSet();
            foreach (var team in linked)
            {
                var shouldBe = groups.Contains(team.LdapGroup!);
                if (shouldBe && !memberOf.Contains(team.Id))
                {
                    db.TeamMembers.Add(new TeamMemberRow { TeamId = team.Id, User = user.Name });
                    db.Publish(new TeamMemberAdded(team.Organization, team.Name, user.Name) { Actor = actor });
                }
                else if (!shouldBe && memberOf.Contains(team.Id))
                {
                    db.TeamMembers.Remove(new TeamMemberRow { TeamId = team.Id, User = user.Name });
                    db.Publish(new TeamMemberRemoved(team.Organization, team.Name, user.Name) { Actor = actor });
                }
            }
            await db.SaveChangesAsync(cancellationToken);
            return new Caller(account.Name, CallerKind.User, account.IsSuperuser);
        }, cancellationToken);
}
