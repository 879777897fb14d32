using System.Net;
using System.Net.Http.Headers;
using Berth.Server;
using Berth.TestSupport;

namespace Berth.Auth.Tests;

/// <summary>How Auth behaves as deployed: first start, restarts, the token-only CLI mode, and PostgreSQL.</summary>
public sealed class AuthDeploymentTests
{
    [Fact]
    public async Task First_start_writes_the_admin_password_to_a_private_file_and_tokens_survive_a_restart()
    {
        using var data = new TempDirectory("berth-auth-first");
        string[] args = ["--services", "all", "--Registry:DataDirectory", data.Path, "--Auth:DataDirectory", data.Path, "--AuditLog:DataDirectory", data.Path, "--Collector:DataDirectory", data.Path, "--Auth:PasswordHashIterations", "1000"];
        string token;
        await using (var first = await RunningApp.StartAsync(ServerApp.Build, args))
        {
            var file = Path.Combine(data.Path, "initial-admin-password");
            if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            var password = File.ReadAllText(file).Trim();
            Assert.True(password.Length >= 32);
            using var http = first.CreateClient();
            token = await RegistryLogin.TokenAsync(http, "admin", password, "repository:admin/kept:pull,push");
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            await SecuredServer.PushImageAsync(http, "admin/kept", "v1");
        }

        await using var second = await RunningApp.StartAsync(ServerApp.Build, args);
        using var again = second.CreateClient();
        again.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        // Signed before the restart, by a key kept in the database: still valid.
        Assert.Equal(HttpStatusCode.OK, (await again.GetAsync("/v2/admin/kept/manifests/v1")).StatusCode);
    }

    [Fact]
    public async Task With_password_login_off_the_cli_needs_an_app_token()
    {
        using var data = new TempDirectory("berth-auth-tokens-only");
        await using var server = await BerthHosts.StartSecuredServerAsync(data.Path, "--Auth:PasswordLogin", "false");
        using var http = server.CreateClient();
        using (var request = new HttpRequestMessage(HttpMethod.Get, RegistryLogin.TokenPath()))
        {
            request.Headers.Authorization = RegistryLogin.Basic("admin", BerthHosts.AdminPassword);
            using var refused = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Contains("app token", await refused.Content.ReadAsStringAsync());
        }
        // The API still takes the password, so the user can make a token there.
        using var api = server.CreateClient();
        api.DefaultRequestHeaders.Authorization = RegistryLogin.Basic("admin", BerthHosts.AdminPassword);
        var (status, body) = await RegistryLogin.CallAsync(api, HttpMethod.Post, "/api/v1/user/tokens", new { title = "cli" });
        Assert.Equal(HttpStatusCode.OK, status);
        var secret = body!.Value.GetProperty("secret").GetString()!;
        var token = await RegistryLogin.TokenAsync(http, "admin", secret, "repository:admin/cli:pull,push");
        Assert.Contains("push", SecuredServer.AccessOf(token)["repository:admin/cli"]);
    }

    [SkippableFact]
    public async Task Accounts_tokens_and_permissions_work_on_postgresql()
    {
        var admin = RequiredServer.Postgres();
        // A database per service, as deployed: Auth's and the registry's schemas are their own.
        await using var authDatabase = await TemporaryPostgresDatabase.CreateAsync(admin, "berth_auth");
        await using var registryDatabase = await TemporaryPostgresDatabase.CreateAsync(admin, "berth_registry");
        using var data = new TempDirectory("berth-auth-pg");
        await using var server = await BerthHosts.StartSecuredServerAsync(data.Path,
            "--Auth:DatabaseProvider", "postgres", "--Auth:ConnectionString", authDatabase.ConnectionString,
            "--Registry:DatabaseProvider", "postgres", "--Registry:ConnectionString", registryDatabase.ConnectionString);
        using var api = server.CreateClient();
        api.DefaultRequestHeaders.Authorization = RegistryLogin.Basic("admin", BerthHosts.AdminPassword);
        Assert.Equal(HttpStatusCode.OK, (await RegistryLogin.CallAsync(api, HttpMethod.Post, "/api/v1/users", new { name = "pguser", password = "pg-user-password" })).Status);
        Assert.Equal(HttpStatusCode.OK, (await RegistryLogin.CallAsync(api, HttpMethod.Post, "/api/v1/organizations", new { name = "pgorg" })).Status);

        using var http = server.CreateClient();
        var token = await RegistryLogin.TokenAsync(http, "admin", BerthHosts.AdminPassword, "repository:pgorg/app:pull,push");
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        await SecuredServer.PushImageAsync(http, "pgorg/app", "v1");
        Assert.Equal(HttpStatusCode.OK, (await RegistryLogin.CallAsync(api, HttpMethod.Put, "/api/v1/permissions/pgorg/app", new { subjectKind = "user", subject = "pguser", role = "read" })).Status);

        using var reader = server.CreateClient();
        var readerToken = await RegistryLogin.TokenAsync(reader, "pguser", "pg-user-password", "repository:pgorg/app:pull,push");
        Assert.Equal(["pull"], SecuredServer.AccessOf(readerToken)["repository:pgorg/app"]);
        reader.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", readerToken);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/v2/pgorg/app/manifests/v1")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.PostAsync("/v2/pgorg/app/blobs/uploads/", null)).StatusCode);
    }
}
