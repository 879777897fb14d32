using Berth.Auth.Accounts;
using Berth.Auth.Api.V1;
using Berth.Auth.Data;
using Berth.Contracts.Accounts;
using Berth.Data.Outbox;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;

namespace Berth.Auth.Grpc;

/// <summary>Robot accounts: "namespace+name" with a token, managed by the namespace's owner or admins.</summary>
public sealed partial class AuthGrpcService
{
    public override async Task<RobotWithToken> CreateRobot(RobotRequest request, ServerCallContext context)
    {
        await RequireNamespaceKindAsync(request.Namespace, "", context.CancellationToken);
        var caller = await NamespaceAdminAsync(context, request.Namespace);
        if (!AccountNames.IsValidShortName(request.Name)) throw Invalid("robot names start with a-z and have up to 64 of a-z, 0-9 and _");
        var name = AccountNames.RobotName(request.Namespace, request.Name);
        var token = Secrets.NewToken();
        var row = await authDb.WriteAsync(async db =>
        {
            if (await db.Robots.AnyAsync(r => r.Name == name, context.CancellationToken)) throw Exists($"robot '{name}' exists");
            var robot = new RobotRow { Name = name, Namespace = request.Namespace, TokenHash = Secrets.Hash(token), CreatedAt = authDb.Now() };
            db.Robots.Add(robot);
            db.Publish(new RobotCreated(name) { Actor = Actor(caller, context) });
            await db.SaveChangesAsync(context.CancellationToken);
            return robot;
        }, context.CancellationToken);
        return new RobotWithToken { Robot = ToMessage(row), Token = token };
    }

    public override async Task<ListRobotsResponse> ListRobots(NamespaceRequest request, ServerCallContext context)
    {
        await NamespaceAdminAsync(context, request.Namespace);
        await using var db = authDb.Open();
        var response = new ListRobotsResponse();
        response.Robots.AddRange((await db.Robots.AsNoTracking().Where(r => r.Namespace == request.Namespace).OrderBy(r => r.Name).ToListAsync(context.CancellationToken)).Select(ToMessage));
        return response;
    }

    public override async Task<RobotWithToken> RegenerateRobotToken(RobotRequest request, ServerCallContext context)
    {
        var caller = await NamespaceAdminAsync(context, request.Namespace);
        var name = AccountNames.RobotName(request.Namespace, request.Name);
        var token = Secrets.NewToken();
        var row = await authDb.WriteAsync(async db =>
        {
            var robot = await db.Robots.FirstOrDefaultAsync(r => r.Name == name, context.CancellationToken) ?? throw NotFound($"no robot '{Shorten(name)}'");
            robot.TokenHash = Secrets.Hash(token);
            await db.RefreshTokens.Where(t => t.Account == name).ExecuteDeleteAsync(context.CancellationToken);
            db.Publish(new RobotTokenRegenerated(name) { Actor = Actor(caller, context) });
            await db.SaveChangesAsync(context.CancellationToken);
            return robot;
        }, context.CancellationToken);
        return new RobotWithToken { Robot = ToMessage(row), Token = token };
    }

    public override async Task<Empty> DeleteRobot(RobotRequest request, ServerCallContext context)
    {
        var caller = await NamespaceAdminAsync(context, request.Namespace);
        var name = AccountNames.RobotName(request.Namespace, request.Name);
        await authDb.WriteAsync(async db =>
        {
            var robot = await db.Robots.FirstOrDefaultAsync(r => r.Name == name, context.CancellationToken) ?? throw NotFound($"no robot '{Shorten(name)}'");
            await RemoveSubjectPermissionsAsync(db, Roles.SubjectRobot, [name], context.CancellationToken);
            await db.RefreshTokens.Where(t => t.Account == name).ExecuteDeleteAsync(context.CancellationToken);
            db.Robots.Remove(robot);
            db.Publish(new RobotDeleted(name) { Actor = Actor(caller, context) });
            await db.SaveChangesAsync(context.CancellationToken);
            return;
        }, context.CancellationToken);
        return new Empty();
    }

    private static Robot ToMessage(RobotRow row) => new() { Name = row.Name, CreatedAt = Stamp(row.CreatedAt) };
}
