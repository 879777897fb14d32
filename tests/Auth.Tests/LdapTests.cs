using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Berth.TestSupport;

namespace Berth.Auth.Tests;

/// <summary>
/// The LDAP user store against a real slapd: logins bind as the user, first
/// logins create "ldap" accounts, and every login brings the teams linked to
/// LDAP groups in line with the directory. Each test has its own slapd and
/// Server, so changing a group in one cannot leak into another.
/// </summary>
public sealed class LdapTests
{
    private const string Admin = "admin";

    [SkippableFact]
    public async Task A_directory_user_logs_in_and_becomes_an_ldap_account()
    {
        await using var env = await LdapEnvironment.StartAsync();
        using var http = env.Server.CreateClient();

        var (status, token, body) = await TokenAsync(http, "alice", LdapServer.AlicePassword, "repository:alice/app:pull,push");
        Assert.True(status == HttpStatusCode.OK, $"alice's login: {(int)status} {body}");
        // Her first login made the namespace "alice", so she may push to her own repositories.
        Assert.Equal(["pull", "push"], ActionsOf(token!, "repository:alice/app").Order());

        using var alice = RegistryLogin.WithBasic(env.Server.CreateClient(), "alice", LdapServer.AlicePassword);
        var user = await CallOkAsync(alice, HttpMethod.Get, "/api/v1/user");
        Assert.Equal("alice", user.GetProperty("name").GetString());
        Assert.Equal("ldap", user.GetProperty("source").GetString());
        Assert.Equal("alice@berth.test", user.GetProperty("email").GetString());

        // The account holds no password: the directory stays the only place it is checked.
        using var admin = RegistryLogin.WithBasic(env.Server.CreateClient(), Admin, BerthHosts.AdminPassword);
        var listed = await CallOkAsync(admin, HttpMethod.Get, "/api/v1/users/alice");
        Assert.Equal("ldap", listed.GetProperty("source").GetString());
    }

    [SkippableFact]
    public async Task Wrong_passwords_unknown_users_and_filter_syntax_are_refused_without_an_error()
    {
        // Every refusal here counts against 127.0.0.1; the throttle has its own tests and must not turn these into 429s.
        await using var env = await LdapEnvironment.StartAsync("--Auth:FailuresBeforeThrottle", "1000");
        using var http = env.Server.CreateClient();

        string[][] refused =
        [
            ["alice", "wrong-password"],
            ["alice", LdapServer.BobPassword],
            ["carol", "carol-password-1"],
            // An empty password would be an anonymous bind, which slapd accepts: it must never count as a login.
            ["alice", ""],
            ["alice)(uid=*", LdapServer.AlicePassword],
            ["*", LdapServer.AlicePassword],
            ["alice*", LdapServer.AlicePassword],
            [LdapServer.UserDn("alice"), LdapServer.AlicePassword],
            ["alice,ou=people", LdapServer.AlicePassword],
        ];
        foreach (var credentials in refused)
        {
            var (status, _, body) = await TokenAsync(http, credentials[0], credentials[1], "repository:alice/app:pull");
            Assert.True(status == HttpStatusCode.Unauthorized, $"login as '{credentials[0]}' with '{credentials[1]}': {(int)status} {body}");
            using var api = RegistryLogin.WithBasic(env.Server.CreateClient(), credentials[0], credentials[1]);
            var (apiStatus, apiBody) = await RegistryLogin.CallAsync(api, HttpMethod.Get, "/api/v1/user");
            Assert.True(apiStatus == HttpStatusCode.Unauthorized, $"API call as '{credentials[0]}': {(int)apiStatus} {apiBody}");
        }

        // No refused login left an account behind.
        using var admin = RegistryLogin.WithBasic(env.Server.CreateClient(), Admin, BerthHosts.AdminPassword);
        var users = await CallOkAsync(admin, HttpMethod.Get, "/api/v1/users");
        Assert.Equal([Admin], users.GetProperty("users").EnumerateArray().Select(u => u.GetProperty("name").GetString()));

        // The failures broke nothing: the right password still works.
        var (ok, _, okBody) = await TokenAsync(http, "alice", LdapServer.AlicePassword, "repository:alice/app:pull");
        Assert.True(ok == HttpStatusCode.OK, $"alice after the refusals: {(int)ok} {okBody}");
    }

    [SkippableFact]
    public async Task Group_membership_follows_the_directory_on_each_login()
    {
        await using var env = await LdapEnvironment.StartAsync();
        using var admin = RegistryLogin.WithBasic(env.Server.CreateClient(), Admin, BerthHosts.AdminPassword);
        await CallOkAsync(admin, HttpMethod.Post, "/api/v1/organizations", new { name = "acme" });
        var team = await CallOkAsync(admin, HttpMethod.Put, "/api/v1/organizations/acme/teams/devs",
            new { role = "creator", ldapGroup = LdapServer.DevelopersGroup });
        Assert.Equal(LdapServer.DevelopersGroup, team.GetProperty("ldapGroup").GetString());
        Assert.Empty(MembersOf(team));

        // In the developers group: the login adds her to devs, whose creator role lets her make acme/tool.
        using var http = env.Server.CreateClient();
        var (status, token, body) = await TokenAsync(http, "alice", LdapServer.AlicePassword, "repository:acme/tool:pull,push");
        Assert.True(status == HttpStatusCode.OK, $"alice's login: {(int)status} {body}");
        Assert.Contains("push", ActionsOf(token!, "repository:acme/tool"));
        Assert.Equal(["alice"], MembersOf(await TeamAsync(admin, "acme", "devs")));

        using (var pusher = WithBearer(env.Server.CreateClient(), token!))
        {
            var blob = Encoding.UTF8.GetBytes("a layer alice may push");
            using var push = await pusher.PostAsync($"/v2/acme/tool/blobs/uploads/?digest={Sha256(blob)}", new ByteArrayContent(blob));
            Assert.True(push.StatusCode == HttpStatusCode.Created, $"alice's push: {(int)push.StatusCode} {await push.Content.ReadAsStringAsync()}");
        }

        // Out of the group: her next login takes her out of devs, and with it the right to create repositories in acme.
        await env.Ldap.RemoveFromGroupAsync("alice", LdapServer.DevelopersGroup);
        (status, token, body) = await TokenAsync(http, "alice", LdapServer.AlicePassword, "repository:acme/other:pull,push");
        Assert.True(status == HttpStatusCode.OK, $"alice's second login: {(int)status} {body}");
        Assert.DoesNotContain("push", ActionsOf(token!, "repository:acme/other"));
        Assert.Empty(MembersOf(await TeamAsync(admin, "acme", "devs")));

        using (var pusher = WithBearer(env.Server.CreateClient(), token!))
        {
            var blob = Encoding.UTF8.GetBytes("a layer alice may no longer push");
            using var push = await pusher.PostAsync($"/v2/acme/other/blobs/uploads/?digest={Sha256(blob)}", new ByteArrayContent(blob));
            Assert.True(push.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden,
                $"push after leaving the group: {(int)push.StatusCode} {await push.Content.ReadAsStringAsync()}");
        }

        // Back in the group, back in the team: the sync adds as well as removes for an existing account.
        await env.Ldap.AddToGroupAsync("alice", LdapServer.DevelopersGroup);
        (status, _, body) = await TokenAsync(http, "alice", LdapServer.AlicePassword, "repository:acme/other:pull");
        Assert.True(status == HttpStatusCode.OK, $"alice's third login: {(int)status} {body}");
        Assert.Equal(["alice"], MembersOf(await TeamAsync(admin, "acme", "devs")));
    }

    [SkippableFact]
    public async Task A_user_outside_the_group_is_not_made_a_member()
    {
        await using var env = await LdapEnvironment.StartAsync();
        using var admin = RegistryLogin.WithBasic(env.Server.CreateClient(), Admin, BerthHosts.AdminPassword);
        await CallOkAsync(admin, HttpMethod.Post, "/api/v1/organizations", new { name = "acme" });
        await CallOkAsync(admin, HttpMethod.Put, "/api/v1/organizations/acme/teams/devs", new { role = "creator", ldapGroup = LdapServer.DevelopersGroup });
        // operators is a groupOfUniqueNames with bob: membership through uniqueMember counts too.
        await CallOkAsync(admin, HttpMethod.Put, "/api/v1/organizations/acme/teams/ops", new { role = "member", ldapGroup = LdapServer.OperatorsGroup });

        using var http = env.Server.CreateClient();
        var (status, token, body) = await TokenAsync(http, "bob", LdapServer.BobPassword, "repository:acme/tool:pull,push");
        Assert.True(status == HttpStatusCode.OK, $"bob's login: {(int)status} {body}");
        Assert.DoesNotContain("push", ActionsOf(token!, "repository:acme/tool"));

        Assert.Empty(MembersOf(await TeamAsync(admin, "acme", "devs")));
        Assert.Equal(["bob"], MembersOf(await TeamAsync(admin, "acme", "ops")));
        Assert.Equal([Admin], MembersOf(await TeamAsync(admin, "acme", "owners")));

        using var bob = RegistryLogin.WithBasic(env.Server.CreateClient(), "bob", LdapServer.BobPassword);
        var user = await CallOkAsync(bob, HttpMethod.Get, "/api/v1/user");
        Assert.Equal("ldap", user.GetProperty("source").GetString());
        // bob's entry has no mail attribute; proto3 JSON leaves the empty string out.
        Assert.False(user.TryGetProperty("email", out var email) && email.GetString() is { Length: > 0 }, $"bob's email: {user}");
    }

    [SkippableFact]
    public async Task A_directory_user_named_like_an_organization_is_refused_and_the_organization_kept()
    {
        await using var env = await LdapEnvironment.StartAsync();
        using var admin = RegistryLogin.WithBasic(env.Server.CreateClient(), Admin, BerthHosts.AdminPassword);
        await CallOkAsync(admin, HttpMethod.Post, "/api/v1/organizations", new { name = "bob" });

        using var http = env.Server.CreateClient();
        var (status, _, body) = await TokenAsync(http, "bob", LdapServer.BobPassword, "repository:bob/app:pull,push");
        Assert.True(status == HttpStatusCode.Unauthorized, $"bob's login onto the organization's name: {(int)status} {body}");

        var (userStatus, _) = await RegistryLogin.CallAsync(admin, HttpMethod.Get, "/api/v1/users/bob");
        Assert.Equal(HttpStatusCode.NotFound, userStatus);
        Assert.Equal([Admin], MembersOf(await TeamAsync(admin, "bob", "owners")));
    }

    [SkippableFact]
    public async Task A_group_search_the_directory_refuses_refuses_the_login()
    {
        // A search base that does not exist: slapd answers noSuchObject after a good bind.
        await using var env = await LdapEnvironment.StartAsync("--Auth:Ldap:GroupSearchBase", "ou=missing," + LdapServer.Suffix);
        using var http = env.Server.CreateClient();

        var (status, _, body) = await TokenAsync(http, "alice", LdapServer.AlicePassword, "repository:alice/app:pull");
        Assert.True(status == HttpStatusCode.Unauthorized, $"alice's login with a broken group search: {(int)status} {body}");

        using var admin = RegistryLogin.WithBasic(env.Server.CreateClient(), Admin, BerthHosts.AdminPassword);
        var (userStatus, _) = await RegistryLogin.CallAsync(admin, HttpMethod.Get, "/api/v1/users/alice");
        Assert.Equal(HttpStatusCode.NotFound, userStatus);
    }

    /// <summary>GET /v2/auth with Basic credentials: the status, the token when one was issued, and the body for messages.</summary>
    private static async Task<(HttpStatusCode Status, string? Token, string Body)> TokenAsync(HttpClient http, string user, string secret, params string[] scopes)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, RegistryLogin.TokenPath(scopes));
        request.Headers.Authorization = RegistryLogin.Basic(user, secret);
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        var token = response.IsSuccessStatusCode ? JsonDocument.Parse(body).RootElement.GetProperty("token").GetString() : null;
        return (response.StatusCode, token, body);
    }

    /// <summary>The actions the token grants on "type:name" (none when the resource is not in its access claim).</summary>
    private static string[] ActionsOf(string token, string resource)
    {
        var payload = Encoding.UTF8.GetString(Microsoft.IdentityModel.Tokens.Base64UrlEncoder.DecodeBytes(token.Split('.')[1]));
        using var document = JsonDocument.Parse(payload);
        if (!document.RootElement.TryGetProperty("access", out var access)) return [];
        return
        [
            .. access.EnumerateArray()
                .Where(e => $"{e.GetProperty("type").GetString()}:{e.GetProperty("name").GetString()}" == resource)
                .SelectMany(e => e.GetProperty("actions").EnumerateArray().Select(a => a.GetString()!)),
        ];
    }

    private static async Task<JsonElement> TeamAsync(HttpClient admin, string organization, string team)
    {
        var found = await CallOkAsync(admin, HttpMethod.Get, $"/api/v1/organizations/{organization}");
        return found.GetProperty("teams").EnumerateArray().Single(t => t.GetProperty("name").GetString() == team);
    }

    /// <summary>A team's members; proto3 JSON leaves an empty list out.</summary>
    private static string[] MembersOf(JsonElement team) =>
        team.TryGetProperty("members", out var members) ? [.. members.EnumerateArray().Select(m => m.GetString()!)] : [];

    private static async Task<JsonElement> CallOkAsync(HttpClient http, HttpMethod method, string path, object? body = null)
    {
        var (status, json) = await RegistryLogin.CallAsync(http, method, path, body);
        Assert.True(status == HttpStatusCode.OK, $"{method} {path}: {(int)status} {json}");
        return json!.Value;
    }

    private static HttpClient WithBearer(HttpClient http, string token)
    {
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    private static string Sha256(byte[] content) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));

    /// <summary>A private slapd and a secured Server pointed at it, each with its own temp directory.</summary>
    private sealed class LdapEnvironment(LdapServer ldap, TempDirectory data, RunningApp server) : IAsyncDisposable
    {
        public LdapServer Ldap { get; } = ldap;

        public RunningApp Server { get; } = server;

        public static async Task<LdapEnvironment> StartAsync(params string[] extraArgs)
        {
            var ldap = await LdapServer.StartAsync();
            var data = new TempDirectory("berth-ldap-server");
            try
            {
                var server = await BerthHosts.StartSecuredServerAsync(data.Path, [.. ldap.AuthArguments, "--Auth:Ldap:TimeoutSeconds", "5", .. extraArgs]);
                return new LdapEnvironment(ldap, data, server);
            }
            catch
            {
                data.Dispose();
                await ldap.DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            await Server.DisposeAsync();
            data.Dispose();
            await Ldap.DisposeAsync();
        }
    }
}
