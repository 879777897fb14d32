using System.Net;
using Berth.Auth.Data;
using Berth.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Auth.Tests;

/// <summary>A server with anonymous pull switched off.</summary>
public sealed class NoAnonymousServer : SecuredServer
{
    public NoAnonymousServer() => Arguments = ["--Auth:AnonymousPull", "false"];
}

/// <summary>With Auth:AnonymousPull=false, public repositories need a login; any signed-in account may pull them.</summary>
public sealed class AnonymousAccessTests(NoAnonymousServer server) : IClassFixture<NoAnonymousServer>
{
    [Fact]
    public async Task Public_repositories_need_a_login_when_anonymous_pull_is_off()
    {
        using (var push = await server.WithTokenAsync(SecuredServer.Admin, SecuredServer.AdminPassword, "repository:admin/open:pull,push"))
            await SecuredServer.PushImageAsync(push, "admin/open", "v1");
        using var admin = server.AsAdmin();
        await server.CallOkAsync(admin, HttpMethod.Put, "/api/v1/visibility/admin/open", new { visibility = "public" });

        using var anonymous = await server.WithTokenAsync(null, null, "repository:admin/open:pull", "registry:catalog:*");
        Assert.Empty(SecuredServer.AccessOf(anonymous.DefaultRequestHeaders.Authorization!.Parameter!));
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/v2/admin/open/manifests/v1")).StatusCode);

        var user = SecuredServer.UniqueName("someone");
        var password = await server.CreateUserAsync(user);
        using var signedIn = await server.WithTokenAsync(user, password, "repository:admin/open:pull");
        Assert.Equal(HttpStatusCode.OK, (await signedIn.GetAsync("/v2/admin/open/manifests/v1")).StatusCode);
    }

    [Fact]
    public async Task An_expired_app_token_no_longer_logs_in()
    {
        var user = SecuredServer.UniqueName("expiring");
        var password = await server.CreateUserAsync(user);
        using var api = server.As(user, password);
        var created = await server.CallOkAsync(api, HttpMethod.Post, "/api/v1/user/tokens", new { title = "short", expiresInDays = 1 });
        var secret = created.GetProperty("secret").GetString()!;
        var id = created.GetProperty("token").GetProperty("id").GetString()!;
        using var withToken = server.As(user, secret);
        Assert.Equal(HttpStatusCode.OK, (await withToken.GetAsync(RegistryLogin.TokenPath())).StatusCode);

        // A day later, as far as the database is concerned.
        var authDb = server.Server.App.Services.GetRequiredService<AuthDb>();
        await authDb.WriteAsync(db => db.AppTokens.Where(t => t.Id == id).ExecuteUpdateAsync(u => u.SetProperty(t => t.ExpiresAt, DateTime.UtcNow.AddMinutes(-1))), CancellationToken.None);
        Assert.Equal(HttpStatusCode.Unauthorized, (await withToken.GetAsync(RegistryLogin.TokenPath())).StatusCode);
    }
}
