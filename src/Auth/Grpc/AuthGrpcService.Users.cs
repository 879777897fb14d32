using Berth.Access;
using Berth.Auth.Accounts;
using Berth.Auth.Api.V1;
using Berth.Auth.Data;
using Berth.Contracts.Accounts;
using Berth.Data.Outbox;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;

namespace Berth.Auth.Grpc;

/// <summary>Users: superusers manage them; everyone may read and change their own.</summary>
public sealed partial class AuthGrpcService
{
    private const int MinPasswordLength = 8;

    public override async Task<User> WhoAmI(Empty request, ServerCallContext context)
    {
        var caller = await SignedInAsync(context);
        if (caller.Kind == CallerKind.Robot) return new User { Name = caller.Name, Source = "robot" };
        return await LoadUserAsync(caller.Name, context.CancellationToken);
    }

    public override async Task<User> CreateUser(CreateUserRequest request, ServerCallContext context)
    {
        var caller = WithPassword(await SuperuserAsync(context));
        if (!AccountNames.IsValidNamespace(request.Name)) throw Invalid("user names are 2-255 characters of a-z, 0-9 and single . _ - between them");
        CheckPassword(request.Password);
        var hash = hasher.Hash(request.Password);
        await authDb.WriteAsync(async db =>
        {
            if (await db.Namespaces.AnyAsync(n => n.Name == request.Name, context.CancellationToken)) throw Exists($"the name '{request.Name}' is taken");
            var now = authDb.Now();
            db.Namespaces.Add(new NamespaceRow { Name = request.Name, Kind = "user", CreatedAt = now });
            db.Users.Add(new UserRow { Name = request.Name, Email = NullIfEmpty(request.Email), PasswordHash = hash, IsSuperuser = request.Superuser, CreatedAt = now });
            db.Publish(new UserCreated(request.Name, "local", request.Superuser) { Actor = Actor(caller, context) });
            await db.SaveChangesAsync(context.CancellationToken);
            return;
        }, context.CancellationToken);
        return await LoadUserAsync(request.Name, context.CancellationToken);
    }

    public override async Task<ListUsersResponse> ListUsers(Empty request, ServerCallContext context)
    {
        await SuperuserAsync(context);
        await using var db = authDb.Open();
        var rows = await db.Users.AsNoTracking().OrderBy(u => u.Name).ToListAsync(context.CancellationToken);
        var response = new ListUsersResponse();
        response.Users.AddRange(rows.Select(ToMessage));
        return response;
    }

    public override async Task<User> GetUser(NameRequest request, ServerCallContext context)
    {
        var caller = await SignedInAsync(context);
        if (!caller.IsSuperuser && caller.Name != request.Name) throw Denied("you may only read your own account");
        return await LoadUserAsync(request.Name, context.CancellationToken);
    }

    public override async Task<Empty> DeleteUser(NameRequest request, ServerCallContext context)
    {
        var caller = WithPassword(await SuperuserAsync(context));
        if (caller.Name == request.Name) throw Invalid("a superuser cannot delete their own account");
        await authDb.WriteAsync(async db =>
        {
            var ns = await db.Namespaces.FirstOrDefaultAsync(n => n.Name == request.Name && n.Kind == "user", context.CancellationToken)
                ?? throw NotFound($"no user named '{Shorten(request.Name)}'");
            await RequireNoRepositoriesAsync(db, request.Name, context.CancellationToken);
            var robots = await db.Robots.Where(r => r.Namespace == request.Name).Select(r => r.Name).ToListAsync(context.CancellationToken);
            await RemoveSubjectPermissionsAsync(db, Roles.SubjectUser, [request.Name], context.CancellationToken);
            await RemoveSubjectPermissionsAsync(db, Roles.SubjectRobot, robots, context.CancellationToken);
            await db.RefreshTokens.Where(t => t.Account == request.Name || robots.Contains(t.Account)).ExecuteDeleteAsync(context.CancellationToken);
            db.Namespaces.Remove(ns);
            db.Publish(new UserDeleted(request.Name) { Actor = Actor(caller, context) });
            await db.SaveChangesAsync(context.CancellationToken);
            return;
        }, context.CancellationToken);
        return new Empty();
    }

    public override async Task<Empty> ChangePassword(ChangePasswordRequest request, ServerCallContext context)
    {
        var caller = WithPassword(await SignedInAsync(context));
        if (!caller.IsSuperuser && caller.Name != request.Name) throw Denied("you may only change your own password");
        CheckPassword(request.Password);
        var hash = hasher.Hash(request.Password);
        await authDb.WriteAsync(async db =>
        {
            var user = await db.Users.FirstOrDefaultAsync(u => u.Name == request.Name, context.CancellationToken) ?? throw NotFound($"no user named '{Shorten(request.Name)}'");
            if (user.Source != "local") throw Invalid("this account's password is kept in LDAP");
            user.PasswordHash = hash;
            // Offline logins made with the old password end with it.
            await db.RefreshTokens.Where(t => t.Account == request.Name).ExecuteDeleteAsync(context.CancellationToken);
            db.Publish(new UserPasswordChanged(request.Name) { Actor = Actor(caller, context) });
            await db.SaveChangesAsync(context.CancellationToken);
            return;
        }, context.CancellationToken);
        return new Empty();
    }

    public override async Task<User> SetSuperuser(SetSuperuserRequest request, ServerCallContext context)
    {
        var caller = WithPassword(await SuperuserAsync(context));
        if (caller.Name == request.Name && !request.Superuser) throw Invalid("a superuser cannot demote themselves");
        await authDb.WriteAsync(async db =>
        {
            var user = await db.Users.FirstOrDefaultAsync(u => u.Name == request.Name, context.CancellationToken) ?? throw NotFound($"no user named '{Shorten(request.Name)}'");
            user.IsSuperuser = request.Superuser;
            db.Publish(new UserSuperuserChanged(request.Name, request.Superuser) { Actor = Actor(caller, context) });
            await db.SaveChangesAsync(context.CancellationToken);
            return;
        }, context.CancellationToken);
        return await LoadUserAsync(request.Name, context.CancellationToken);
    }

    private async Task<User> LoadUserAsync(string name, CancellationToken cancellationToken)
    {
        await using var db = authDb.Open();
        var row = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Name == name, cancellationToken) ?? throw NotFound($"no user named '{Shorten(name)}'");
        return ToMessage(row);
    }

    private static User ToMessage(UserRow row) => new()
    {
        Name = row.Name,
        Email = row.Email ?? "",
        Superuser = row.IsSuperuser,
        Source = row.Source,
        CreatedAt = Stamp(row.CreatedAt),
    };

    private static void CheckPassword(string password)
    {
        if (password.Length < MinPasswordLength || password.Length > 1024) throw Invalid($"passwords are {MinPasswordLength} to 1024 characters");
    }

    /// <summary>Permission rows have no foreign key to their subject (it may be a user, team or robot), so they go by hand.</summary>
    private static async Task RemoveSubjectPermissionsAsync(AuthDbContext db, string kind, List<string> subjects, CancellationToken cancellationToken)
    {
        if (subjects.Count == 0) return;
        await db.Permissions.Where(p => p.SubjectKind == kind && subjects.Contains(p.Subject)).ExecuteDeleteAsync(cancellationToken);
        await db.DefaultPermissions.Where(p => p.SubjectKind == kind && subjects.Contains(p.Subject)).ExecuteDeleteAsync(cancellationToken);
    }

    /// <summary>
    /// A namespace with repositories is not deleted: whoever took the name next would
    /// own the old repositories (and their images) through the namespace.
    /// </summary>
    private static async Task RequireNoRepositoriesAsync(AuthDbContext db, string @namespace, CancellationToken cancellationToken)
    {
        var count = await db.Repositories.CountAsync(r => r.Namespace == @namespace, cancellationToken);
        if (count > 0)
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"'{@namespace}' still has {count} repositories; delete them first"));
    }

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;
}
