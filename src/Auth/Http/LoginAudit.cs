using System.Collections.Concurrent;
using Berth.Access;
using Berth.Auth.Data;
using Berth.Contracts;
using Berth.Contracts.Accounts;
using Berth.Data.Outbox;
using Microsoft.Extensions.Logging;

namespace Berth.Auth.Http;

/// <summary>
/// Records credential logins at the token endpoint (Quay's login_success). Clients ask
/// for a token per pull, so the same account from the same address and client is
/// recorded once per <see cref="Window"/>, not once per request. Recording never fails
/// a login: the login happened, and a refused token would only fail the pull.
/// </summary>
public sealed class LoginAudit(AuthDb authDb, TimeProvider clock, ILogger<LoginAudit> logger)
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(5);
    private const int MaxRemembered = 10_000;
    private readonly ConcurrentDictionary<(string Account, string Method, string? Address, string? UserAgent), DateTimeOffset> _recent = new();

    public async Task RecordAsync(Caller caller, EventActor actor, CancellationToken cancellationToken)
    {
        var method = caller.Kind == CallerKind.Robot ? "robot_token" : caller.ViaAppToken ? "app_token" : "password";
        var now = clock.GetUtcNow();
        var key = (caller.Name, method, actor.Address, actor.UserAgent);
        if (_recent.TryGetValue(key, out var last) && now - last < Window) return;
        if (_recent.Count >= MaxRemembered)
            foreach (var stale in _recent.Where(r => now - r.Value >= Window).Select(r => r.Key).ToList()) _recent.TryRemove(stale, out _);
        _recent[key] = now;
        try
        {
            await authDb.WriteAsync(async db =>
            {
                db.Publish(new LoginSucceeded(caller.Name, method) { Actor = actor });
                await db.SaveChangesAsync(cancellationToken);
            }, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _recent.TryRemove(key, out _);
            logger.LogWarning("Could not record the login of {Account}: {Error}", caller.Name, e.Message);
        }
    }
}
