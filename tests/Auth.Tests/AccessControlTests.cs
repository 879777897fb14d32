using System.Net;
using Berth.TestSupport;

namespace Berth.Auth.Tests;

/// <summary>Who gets what: namespaces, visibility, permissions, teams, robots and app tokens, end to end through tokens and /v2.</summary>
public sealed class AccessControlTests(SecuredServer server) : IClassFixture<SecuredServer>
{
    [Fact]
    public async Task First_push_creates_a_private_repository_that_others_cannot_see_until_it_is_public()
    {
        var alice = SecuredServer.UniqueName("alice");
        var alicePassword = await server.CreateUserAsync(alice);
        var bob = SecuredServer.UniqueName("bob");
        var bobPassword = await server.CreateUserAsync(bob);
        var repository = $"{alice}/app";

        using (var push = await server.WithTokenAsync(alice, alicePassword, $"repository:{repository}:pull,push"))
            await SecuredServer.PushImageAsync(push, repository, "v1");

        using var bobPull = await server.WithTokenAsync(bob, bobPassword, $"repository:{repository}:pull");
        Assert.Empty(SecuredServer.AccessOf(bobPull.DefaultRequestHeaders.Authorization!.Parameter!));
        Assert.Equal(HttpStatusCode.Unauthorized, (await bobPull.GetAsync($"/v2/{repository}/manifests/v1")).StatusCode);
        using var anonymous = await server.WithTokenAsync(null, null, $"repository:{repository}:pull");
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/v2/{repository}/manifests/v1")).StatusCode);

        // Bob may not even push into alice's namespace: no grant at all.
        using var bobPush = await server.WithTokenAsync(bob, bobPassword, $"repository:{alice}/other:pull,push");
        Assert.Empty(SecuredServer.AccessOf(bobPush.DefaultRequestHeaders.Authorization!.Parameter!));

        using var aliceApi = server.As(alice, alicePassword);
        await server.CallOkAsync(aliceApi, HttpMethod.Put, $"/api/v1/visibility/{repository}", new { visibility = "public" });
        using var anonymousAgain = await server.WithTokenAsync(null, null, $"repository:{repository}:pull,push");
        Assert.Equal(["pull"], SecuredServer.AccessOf(anonymousAgain.DefaultRequestHeaders.Authorization!.Parameter!)[$"repository:{repository}"]);
        Assert.Equal(HttpStatusCode.OK, (await anonymousAgain.GetAsync($"/v2/{repository}/manifests/v1")).StatusCode);
        // Public means pull, never push.
        Assert.Equal(HttpStatusCode.Forbidden, (await anonymousAgain.PostAsync($"/v2/{repository}/blobs/uploads/", null)).StatusCode);

        await server.CallOkAsync(aliceApi, HttpMethod.Put, $"/api/v1/visibility/{repository}", new { visibility = "private" });
        using var anonymousLast = await server.WithTokenAsync(null, null, $"repository:{repository}:pull");
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymousLast.GetAsync($"/v2/{repository}/manifests/v1")).StatusCode);
    }

    [Fact]
    public async Task A_reader_pulls_but_gets_403_on_push_and_delete()
    {
        var (owner, ownerPassword) = await NewUserAsync("owner");
        var (reader, readerPassword) = await NewUserAsync("reader");
        var repository = $"{owner}/lib";
        using (var push = await server.WithTokenAsync(owner, ownerPassword, $"repository:{repository}:pull,push"))
            await SecuredServer.PushImageAsync(push, repository, "v1");
        using var ownerApi = server.As(owner, ownerPassword);
        await server.CallOkAsync(ownerApi, HttpMethod.Put, $"/api/v1/permissions/{repository}", new { subjectKind = "user", subject = reader, role = "read" });

        using var http = await server.WithTokenAsync(reader, readerPassword, $"repository:{repository}:pull,push,delete");
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"/v2/{repository}/manifests/v1")).StatusCode);
        using var push403 = await http.PostAsync($"/v2/{repository}/blobs/uploads/", null);
        Assert.Equal(HttpStatusCode.Forbidden, push403.StatusCode);
        Assert.Contains("\"DENIED\"", await push403.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, (await http.DeleteAsync($"/v2/{repository}/manifests/v1")).StatusCode);
    }

    [Fact]
    public async Task A_token_for_one_repository_never_opens_another()
    {
        using var admin = await server.WithTokenAsync(SecuredServer.Admin, SecuredServer.AdminPassword, "repository:admin/one:pull,push");
        await SecuredServer.PushImageAsync(admin, "admin/one", "v1");
        using (var other = await server.WithTokenAsync(SecuredServer.Admin, SecuredServer.AdminPassword, "repository:admin/two:pull,push"))
            await SecuredServer.PushImageAsync(other, "admin/two", "v1");
        Assert.Equal(HttpStatusCode.Unauthorized, (await admin.GetAsync("/v2/admin/two/manifests/v1")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await admin.GetAsync("/v2/admin/two/tags/list")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await admin.GetAsync($"/v2/admin/two/referrers/sha256:{new string('a', 64)}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await admin.GetAsync("/v2/_catalog")).StatusCode);
    }

    [Fact]
    public async Task Robots_get_exactly_their_grants_and_lose_them_when_the_token_is_regenerated()
    {
        var (owner, ownerPassword) = await NewUserAsync("robotowner");
        using var ownerApi = server.As(owner, ownerPassword);
        foreach (var name in new[] { "readable", "writable", "hidden" })
            using (var push = await server.WithTokenAsync(owner, ownerPassword, $"repository:{owner}/{name}:pull,push"))
                await SecuredServer.PushImageAsync(push, $"{owner}/{name}", "v1", name);
        var created = await server.CallOkAsync(ownerApi, HttpMethod.Put, $"/api/v1/namespaces/{owner}/robots/ci");
        var robot = created.GetProperty("robot").GetProperty("name").GetString()!;
        var token = created.GetProperty("token").GetString()!;
        Assert.Equal($"{owner}+ci", robot);
        await server.CallOkAsync(ownerApi, HttpMethod.Put, $"/api/v1/permissions/{owner}/readable", new { subjectKind = "robot", subject = robot, role = "read" });
        await server.CallOkAsync(ownerApi, HttpMethod.Put, $"/api/v1/permissions/{owner}/writable", new { subjectKind = "robot", subject = robot, role = "write" });

        using var http = await server.WithTokenAsync(robot, token,
            $"repository:{owner}/readable:pull,push", $"repository:{owner}/writable:pull,push", $"repository:{owner}/hidden:pull", $"repository:{owner}/new:push");
        var access = SecuredServer.AccessOf(http.DefaultRequestHeaders.Authorization!.Parameter!);
        Assert.Equal(["pull"], access[$"repository:{owner}/readable"]);
        Assert.Equal(["pull", "push"], access[$"repository:{owner}/writable"].Order());
        Assert.False(access.ContainsKey($"repository:{owner}/hidden"));
        Assert.False(access.ContainsKey($"repository:{owner}/new"));
        await SecuredServer.PushImageAsync(http, $"{owner}/writable", "v2", "robot");
        Assert.Equal(HttpStatusCode.Forbidden, (await http.PostAsync($"/v2/{owner}/readable/blobs/uploads/", null)).StatusCode);

        var regenerated = await server.CallOkAsync(ownerApi, HttpMethod.Post, $"/api/v1/namespaces/{owner}/robots/ci/regenerate");
        Assert.NotEqual(token, regenerated.GetProperty("token").GetString());
        using var stale = server.As(robot, token);
        Assert.Equal(HttpStatusCode.Unauthorized, (await stale.GetAsync(RegistryLogin.TokenPath())).StatusCode);
        using var fresh = server.As(robot, regenerated.GetProperty("token").GetString()!);
        Assert.Equal(HttpStatusCode.OK, (await fresh.GetAsync(RegistryLogin.TokenPath())).StatusCode);

        await server.CallOkAsync(ownerApi, HttpMethod.Delete, $"/api/v1/namespaces/{owner}/robots/ci");
        Assert.Equal(HttpStatusCode.Unauthorized, (await fresh.GetAsync(RegistryLogin.TokenPath())).StatusCode);
    }

    [Fact]
    public async Task Team_roles_decide_who_creates_repositories_and_a_removed_member_loses_access_at_the_next_token()
    {
        var (founder, founderPassword) = await NewUserAsync("founder");
        var (dev, devPassword) = await NewUserAsync("dev");
        var (viewer, viewerPassword) = await NewUserAsync("viewer");
        var org = SecuredServer.UniqueName("org");
        using var founderApi = server.As(founder, founderPassword);
        await server.CallOkAsync(founderApi, HttpMethod.Post, "/api/v1/organizations", new { name = org });
        await server.CallOkAsync(founderApi, HttpMethod.Put, $"/api/v1/organizations/{org}/teams/builders", new { role = "creator" });
        await server.CallOkAsync(founderApi, HttpMethod.Put, $"/api/v1/organizations/{org}/teams/viewers", new { role = "member" });
        await server.CallOkAsync(founderApi, HttpMethod.Put, $"/api/v1/organizations/{org}/teams/builders/members/{dev}");
        await server.CallOkAsync(founderApi, HttpMethod.Put, $"/api/v1/organizations/{org}/teams/viewers/members/{viewer}");
        await server.CallOkAsync(founderApi, HttpMethod.Put, $"/api/v1/organizations/{org}/defaultpermissions", new { subjectKind = "team", subject = "viewers", role = "read" });

        using (var devPush = await server.WithTokenAsync(dev, devPassword, $"repository:{org}/service:pull,push"))
            await SecuredServer.PushImageAsync(devPush, $"{org}/service", "v1");
        using (var viewerPush = await server.WithTokenAsync(viewer, viewerPassword, $"repository:{org}/other:pull,push"))
            Assert.Empty(SecuredServer.AccessOf(viewerPush.DefaultRequestHeaders.Authorization!.Parameter!));

        // The default permission gave the viewers team read on the new repository.
        using (var viewerPull = await server.WithTokenAsync(viewer, viewerPassword, $"repository:{org}/service:pull"))
            Assert.Equal(HttpStatusCode.OK, (await viewerPull.GetAsync($"/v2/{org}/service/manifests/v1")).StatusCode);

        await server.CallOkAsync(founderApi, HttpMethod.Delete, $"/api/v1/organizations/{org}/teams/viewers/members/{viewer}");
        using (var removed = await server.WithTokenAsync(viewer, viewerPassword, $"repository:{org}/service:pull"))
            Assert.Equal(HttpStatusCode.Unauthorized, (await removed.GetAsync($"/v2/{org}/service/manifests/v1")).StatusCode);

        // The founder (owners team, admin) administers every repository of the organization.
        using var founderPull = await server.WithTokenAsync(founder, founderPassword, $"repository:{org}/service:pull,push,delete");
        Assert.Equal(["delete", "pull", "push"], SecuredServer.AccessOf(founderPull.DefaultRequestHeaders.Authorization!.Parameter!)[$"repository:{org}/service"].Order());
    }

    [Fact]
    public async Task App_tokens_log_in_until_revoked_and_never_show_their_secret_twice()
    {
        var (user, password) = await NewUserAsync("apptoken");
        using var api = server.As(user, password);
        var created = await server.CallOkAsync(api, HttpMethod.Post, "/api/v1/user/tokens", new { title = "laptop", expiresInDays = 30 });
        var secret = created.GetProperty("secret").GetString()!;
        var id = created.GetProperty("token").GetProperty("id").GetString()!;
        Assert.True(created.GetProperty("token").TryGetProperty("expiresAt", out _));

        foreach (var login in new[] { user, "$app" })
        {
            using var http = server.As(login, secret);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(RegistryLogin.TokenPath($"repository:{user}/x:pull"))).StatusCode);
        }
        // The API accepts the app token as a bearer credential too.
        using var bearer = server.Anonymous();
        bearer.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", secret);
        Assert.Equal(user, (await server.CallOkAsync(bearer, HttpMethod.Get, "/api/v1/user")).GetProperty("name").GetString());

        var listed = await server.CallOkAsync(api, HttpMethod.Get, "/api/v1/user/tokens");
        Assert.DoesNotContain(secret, listed.ToString());
        Assert.Contains(listed.GetProperty("tokens").EnumerateArray(), t => t.GetProperty("id").GetString() == id && t.TryGetProperty("lastUsedAt", out _));

        await server.CallOkAsync(api, HttpMethod.Delete, $"/api/v1/user/tokens/{id}");
        using var revoked = server.As(user, secret);
        Assert.Equal(HttpStatusCode.Unauthorized, (await revoked.GetAsync(RegistryLogin.TokenPath())).StatusCode);
    }

    [Fact]
    public async Task The_catalog_lists_only_what_the_caller_may_pull()
    {
        var (user, password) = await NewUserAsync("catalog");
        using (var push = await server.WithTokenAsync(user, password, $"repository:{user}/mine:pull,push"))
            await SecuredServer.PushImageAsync(push, $"{user}/mine", "v1");
        using (var adminPush = await server.WithTokenAsync(SecuredServer.Admin, SecuredServer.AdminPassword, "repository:admin/secret:pull,push"))
            await SecuredServer.PushImageAsync(adminPush, "admin/secret", "v1");

        using var http = await server.WithTokenAsync(user, password, "registry:catalog:*");
        var names = (await server.CallOkAsync(http, HttpMethod.Get, "/v2/_catalog?n=1000")).GetProperty("repositories").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Contains($"{user}/mine", names);
        Assert.DoesNotContain("admin/secret", names);

        using var superuser = await server.WithTokenAsync(SecuredServer.Admin, SecuredServer.AdminPassword, "registry:catalog:*");
        var all = (await server.CallOkAsync(superuser, HttpMethod.Get, "/v2/_catalog?n=1000")).GetProperty("repositories").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Contains($"{user}/mine", all);
        Assert.Contains("admin/secret", all);
    }

    [Fact]
    public async Task A_blob_is_not_mounted_from_a_repository_the_caller_cannot_pull()
    {
        using (var adminPush = await server.WithTokenAsync(SecuredServer.Admin, SecuredServer.AdminPassword, "repository:admin/mountsource:pull,push"))
            await SecuredServer.PushBlobAsync(adminPush, "admin/mountsource", "private layer"u8.ToArray());
        var (user, password) = await NewUserAsync("mounter");
        using var http = await server.WithTokenAsync(user, password, $"repository:{user}/target:pull,push", "repository:admin/mountsource:pull");
        var digest = SecuredServer.Sha256("private layer"u8.ToArray());
        using var mount = await http.PostAsync($"/v2/{user}/target/blobs/uploads/?mount={digest}&from=admin/mountsource", null);
        Assert.Equal(HttpStatusCode.Accepted, mount.StatusCode);
        using var automatic = await http.PostAsync($"/v2/{user}/target/blobs/uploads/?mount={digest}", null);
        Assert.Equal(HttpStatusCode.Accepted, automatic.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"/v2/{user}/target/blobs/{digest}")).StatusCode);
    }

    [Fact]
    public async Task Scope_strings_with_tricks_grant_nothing_and_never_fail()
    {
        using var http = server.AsAdmin();
        var tricks = new[]
        {
            "repository:../admin/x:pull", "repository:admin/../x:pull", "repository:/admin/x:pull", "repository:admin//x:pull",
            "repository:admin/*:pull", "repository:*:*", "repository:admin%2Fx:pull", "repository:admin/x:pull\n", "repository:ADMIN/x:pull",
            "registry:catalog:pull", "bogus:admin/x:pull", "repository:admin/x", "repository:admin/x:fly", ":::", new string('a', 5000),
        };
        foreach (var scope in tricks)
        {
            var token = await RegistryLogin.TokenAsync(http, SecuredServer.Admin, SecuredServer.AdminPassword, scope);
            Assert.Empty(SecuredServer.AccessOf(token));
        }
    }

    [Fact]
    public async Task An_app_token_uses_the_account_but_cannot_take_it_over()
    {
        var (user, password) = await NewUserAsync("takeover");
        using var api = server.As(user, password);
        var secret = (await server.CallOkAsync(api, HttpMethod.Post, "/api/v1/user/tokens", new { title = "leaky", expiresInDays = 1 })).GetProperty("secret").GetString()!;
        using var withToken = server.As(user, secret);
        Assert.Equal(HttpStatusCode.Forbidden, (await RegistryLogin.CallAsync(withToken, HttpMethod.Put, $"/api/v1/users/{user}/password", new { password = "taken-over-password" })).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await RegistryLogin.CallAsync(withToken, HttpMethod.Post, "/api/v1/user/tokens", new { title = "forever" })).Status);
        // No refresh token either: it would outlive the app token's revocation.
        using var offline = await withToken.GetAsync(RegistryLogin.TokenPath() + "&offline_token=true");
        Assert.Equal(HttpStatusCode.OK, offline.StatusCode);
        Assert.DoesNotContain("refresh_token", await offline.Content.ReadAsStringAsync());
        // The password still works, so nothing was changed.
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync(RegistryLogin.TokenPath())).StatusCode);
    }

    [Fact]
    public async Task Bad_robot_tokens_do_not_lock_the_robot_out()
    {
        var (owner, password) = await NewUserAsync("lockout");
        using var api = server.As(owner, password);
        var token = (await server.CallOkAsync(api, HttpMethod.Put, $"/api/v1/namespaces/{owner}/robots/ci")).GetProperty("token").GetString()!;
        using (var attacker = server.As($"{owner}+ci", "guess"))
            for (var i = 0; i < 8; i++)
                Assert.Equal(HttpStatusCode.Unauthorized, (await attacker.GetAsync(RegistryLogin.TokenPath())).StatusCode);
        using var robot = server.As($"{owner}+ci", token);
        Assert.Equal(HttpStatusCode.OK, (await robot.GetAsync(RegistryLogin.TokenPath())).StatusCode);
    }

    [Fact]
    public async Task A_namespace_with_repositories_is_not_deleted_so_its_name_cannot_inherit_them()
    {
        var org = SecuredServer.UniqueName("keep");
        using var admin = server.AsAdmin();
        await server.CallOkAsync(admin, HttpMethod.Post, "/api/v1/organizations", new { name = org });
        using (var push = await server.WithTokenAsync(SecuredServer.Admin, SecuredServer.AdminPassword, $"repository:{org}/app:pull,push"))
            await SecuredServer.PushImageAsync(push, $"{org}/app", "v1");
        var (status, body) = await RegistryLogin.CallAsync(admin, HttpMethod.Delete, $"/api/v1/organizations/{org}");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("repositories", body.ToString());
        Assert.Equal(HttpStatusCode.OK, (await RegistryLogin.CallAsync(admin, HttpMethod.Get, $"/api/v1/organizations/{org}")).Status);
    }

    private async Task<(string Name, string Password)> NewUserAsync(string prefix)
    {
        var name = SecuredServer.UniqueName(prefix);
        return (name, await server.CreateUserAsync(name));
    }
}
