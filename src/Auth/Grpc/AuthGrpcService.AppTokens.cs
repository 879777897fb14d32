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

/// <summary>App-specific tokens of the calling user: made, listed, revoked; each may expire.</summary>
public sealed partial class AuthGrpcService
{
    private const int MaxTokensPerUser = 100;

    public override async Task<AppTokenWithSecret> CreateAppToken(CreateAppTokenRequest request, ServerCallContext context)
    {
        var caller = WithPassword(await UserCallerAsync(context));
        if (request.Title.Length is 0 or > 200) throw Invalid("title must be 1-200 characters");
        if (request.ExpiresInDays is < 0 or > 3650) throw Invalid("expires_in_days must be 0 (never) to 3650");
        var secret = Secrets.NewToken();
        var row = await authDb.WriteAsync(async db =>
        {
            if (await db.AppTokens.CountAsync(t => t.User == caller.Name && t.RevokedAt == null, context.CancellationToken) >= MaxTokensPerUser)
                throw new RpcException(new Status(StatusCode.ResourceExhausted, $"at most {MaxTokensPerUser} live tokens per user"));
            var now = authDb.Now();
            var token = new AppTokenRow
            {
                Id = Guid.NewGuid().ToString("N")[..16],
                User = caller.Name,
                Title = request.Title,
                TokenHash = Secrets.Hash(secret),
                CreatedAt = now,
                ExpiresAt = request.ExpiresInDays > 0 ? now.AddDays(request.ExpiresInDays) : null,
            };
            db.AppTokens.Add(token);
            db.Publish(new AppTokenCreated(caller.Name, token.Id, token.Title, token.ExpiresAt is { } e ? new DateTimeOffset(e, TimeSpan.Zero) : null) { Actor = Actor(caller, context) });
            await db.SaveChangesAsync(context.CancellationToken);
            return token;
        }, context.CancellationToken);
        return new AppTokenWithSecret { Token = ToMessage(row), Secret = secret };
    }

    public override async Task<ListAppTokensResponse> ListAppTokens(Empty request, ServerCallContext context)
    {
        var caller = await UserCallerAsync(context);
        await using var db = authDb.Open();
        var response = new ListAppTokensResponse();
        response.Tokens.AddRange((await db.AppTokens.AsNoTracking().Where(t => t.User == caller.Name).OrderBy(t => t.CreatedAt).ToListAsync(context.CancellationToken)).Select(ToMessage));
        return response;
    }

    public override async Task<Empty> RevokeAppToken(AppTokenRequest request, ServerCallContext context)
    {
        var caller = await UserCallerAsync(context);
        await authDb.WriteAsync(async db =>
        {
            var token = await db.AppTokens.FirstOrDefaultAsync(t => t.Id == request.Id && t.User == caller.Name, context.CancellationToken)
                ?? throw NotFound($"no token '{Shorten(request.Id)}'");
            if (token.RevokedAt is not null) return;
            token.RevokedAt = authDb.Now();
            db.Publish(new AppTokenRevoked(caller.Name, token.Id) { Actor = Actor(caller, context) });
            await db.SaveChangesAsync(context.CancellationToken);
            return;
        }, context.CancellationToken);
        return new Empty();
    }

    private async Task<Caller> UserCallerAsync(ServerCallContext context)
    {
        var caller = await SignedInAsync(context);
        if (caller.Kind != CallerKind.User) throw Denied("only users have app tokens");
        return caller;
    }

    private static AppToken ToMessage(AppTokenRow row) => new()
    {
        Id = row.Id,
        Title = row.Title,
        CreatedAt = Stamp(row.CreatedAt),
        ExpiresAt = Stamp(row.ExpiresAt),
        LastUsedAt = Stamp(row.LastUsedAt),
        Revoked = row.RevokedAt is not null,
    };
}
