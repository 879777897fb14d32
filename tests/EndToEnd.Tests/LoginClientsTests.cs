using System.Net;
using System.Text.Json;
using Berth.TestSupport;

namespace Berth.EndToEnd.Tests;

/// <summary>
/// Unmodified podman and skopeo against Berth with tokens on, through the
/// Gateway: they follow the 401 challenge to /v2/auth by themselves with a
/// user's password, a robot token or an app token.
/// </summary>
[Collection(ContainerClientsCollection.Name)]
public sealed class LoginClientsTests(TestImages images, SecuredBerthStack stack) : IClassFixture<SecuredBerthStack>
{
    [Fact]
    public async Task Podman_logs_in_with_a_password_pushes_and_pulls_and_anonymous_pulls_follow_visibility()
    {
        var (user, password) = await CreateUserAsync("podman");
        var tools = images.Tools;
        var authFile = tools.Combine($"auth-{Guid.NewGuid():N}.json");
        var local = $"localhost/e2e/login-src:{Guid.NewGuid():N}";
        var remote = $"{stack.Host}/{user}/app:1";
        await tools.SkopeoAsync("copy", images.Reference(TestImages.Single), $"containers-storage:{local}");

        await tools.PodmanAsync("login", "--authfile", authFile, "--tls-verify=false", "-u", user, "-p", password, stack.Host);
        var digestFile = tools.Combine($"digest-{Guid.NewGuid():N}");
        await tools.PodmanAsync("push", "--authfile", authFile, "--tls-verify=false", "--digestfile", digestFile, local, remote);
        var pushed = File.ReadAllText(digestFile).Trim();
        // Drop the local copy so the pull really fetches (and records) the pushed manifest.
        await tools.PodmanAsync("rmi", "--force", "--all");
        await tools.PodmanAsync("pull", "--authfile", authFile, "--tls-verify=false", remote);
        using (var inspect = JsonDocument.Parse(await tools.PodmanAsync("image", "inspect", remote)))
            Assert.Equal(pushed, inspect.RootElement[0].GetProperty("Digest").GetString());

        // Without credentials: the private repository is refused with 401 ...
        var empty = tools.Combine($"empty-{Guid.NewGuid():N}.json");
        File.WriteAllText(empty, "{}");
        var refused = await tools.TryRunAsync("skopeo", ["inspect", "--authfile", empty, "--tls-verify=false", $"docker://{remote}"]);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("unauthorized", refused.Errors, StringComparison.OrdinalIgnoreCase);

        // ... and once public, the same anonymous pull works.
        using var api = stack.Api(user, password);
        var (status, _) = await RegistryLogin.CallAsync(api, HttpMethod.Put, $"/api/v1/visibility/{user}/app", new { visibility = "public" });
        Assert.Equal(HttpStatusCode.OK, status);
        var anonymous = await tools.SkopeoAsync("inspect", "--raw", "--authfile", empty, "--tls-verify=false", $"docker://{remote}");
        var withLogin = await tools.SkopeoAsync("inspect", "--raw", "--authfile", authFile, "--tls-verify=false", $"docker://{remote}");
        Assert.Equal(Sha256(withLogin), Sha256(anonymous));
    }

    [Fact]
    public async Task Skopeo_copies_in_and_out_with_a_robot_token()
    {
        using var admin = stack.AdminApi();
        var org = $"robots{Guid.NewGuid():N}"[..14];
        await RegistryLogin.CallAsync(admin, HttpMethod.Post, "/api/v1/organizations", new { name = org });
        var (_, created) = await RegistryLogin.CallAsync(admin, HttpMethod.Put, $"/api/v1/namespaces/{org}/robots/deployer");
        var robot = created!.Value.GetProperty("robot").GetProperty("name").GetString()!;
        var token = created.Value.GetProperty("token").GetString()!;
        // The repository exists (admin pushes first), then the robot gets write on it.
        await images.Tools.SkopeoAsync("copy", "--dest-tls-verify=false", "--dest-creds", $"admin:{BerthHosts.AdminPassword}",
            images.Reference(TestImages.Single), $"docker://{stack.Host}/{org}/service:seed");
        var (status, _) = await RegistryLogin.CallAsync(admin, HttpMethod.Put, $"/api/v1/permissions/{org}/service", new { subjectKind = "robot", subject = robot, role = "write" });
        Assert.Equal(HttpStatusCode.OK, status);

        var creds = $"{robot}:{token}";
        await images.Tools.SkopeoAsync("copy", "--dest-tls-verify=false", "--dest-creds", creds, images.Reference(TestImages.Single), $"docker://{stack.Host}/{org}/service:robot");
        var layout = images.Tools.Combine($"robot-out-{Guid.NewGuid():N}");
        await images.Tools.SkopeoAsync("copy", "--src-tls-verify=false", "--src-creds", creds, $"docker://{stack.Host}/{org}/service:robot", $"oci:{layout}:out");
        // What the registry serves for the tag is what came out (clients may re-use known layer variants on push, so compare with the stored manifest).
        var stored = await images.Tools.SkopeoAsync("inspect", "--raw", "--tls-verify=false", "--creds", creds, $"docker://{stack.Host}/{org}/service:robot");
        Assert.Equal(Sha256(stored), TestImages.DigestOf(layout, "out"));

        // The robot may not create repositories it was given nothing on.
        var refused = await images.Tools.TryRunAsync("skopeo", ["copy", "--dest-tls-verify=false", "--dest-creds", creds, images.Reference(TestImages.Single), $"docker://{stack.Host}/{org}/elsewhere:1"]);
        Assert.NotEqual(0, refused.ExitCode);
    }

    [Fact]
    public async Task Podman_logs_in_with_an_app_token_and_a_reader_is_denied_push()
    {
        var (owner, ownerPassword) = await CreateUserAsync("owner");
        var (reader, readerPassword) = await CreateUserAsync("reader");
        using var ownerApi = stack.Api(owner, ownerPassword);
        var (_, token) = await RegistryLogin.CallAsync(ownerApi, HttpMethod.Post, "/api/v1/user/tokens", new { title = "ci" });
        var secret = token!.Value.GetProperty("secret").GetString()!;

        var tools = images.Tools;
        var authFile = tools.Combine($"auth-{Guid.NewGuid():N}.json");
        var local = $"localhost/e2e/apptoken-src:{Guid.NewGuid():N}";
        await tools.SkopeoAsync("copy", images.Reference(TestImages.Single), $"containers-storage:{local}");
        await tools.PodmanAsync("login", "--authfile", authFile, "--tls-verify=false", "-u", owner, "-p", secret, stack.Host);
        await tools.PodmanAsync("push", "--authfile", authFile, "--tls-verify=false", local, $"{stack.Host}/{owner}/tool:1");
        await tools.PodmanAsync("pull", "--authfile", authFile, "--tls-verify=false", $"{stack.Host}/{owner}/tool:1");

        var (status, _) = await RegistryLogin.CallAsync(ownerApi, HttpMethod.Put, $"/api/v1/permissions/{owner}/tool", new { subjectKind = "user", subject = reader, role = "read" });
        Assert.Equal(HttpStatusCode.OK, status);
        var readerAuth = tools.Combine($"auth-{Guid.NewGuid():N}.json");
        await tools.PodmanAsync("login", "--authfile", readerAuth, "--tls-verify=false", "-u", reader, "-p", readerPassword, stack.Host);
        await tools.PodmanAsync("pull", "--authfile", readerAuth, "--tls-verify=false", $"{stack.Host}/{owner}/tool:1");
        var denied = await tools.TryRunAsync("podman", ["push", "--authfile", readerAuth, "--tls-verify=false", local, $"{stack.Host}/{owner}/tool:2"]);
        Assert.NotEqual(0, denied.ExitCode);
        Assert.Contains("denied", denied.Errors, StringComparison.OrdinalIgnoreCase);
    }

    private static string Sha256(string raw) => "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(raw)));

    private async Task<(string User, string Password)> CreateUserAsync(string prefix)
    {
        var user = $"{prefix}{Guid.NewGuid():N}"[..(prefix.Length + 10)];
        var password = $"pw-{user}";
        using var admin = stack.AdminApi();
        var (status, body) = await RegistryLogin.CallAsync(admin, HttpMethod.Post, "/api/v1/users", new { name = user, password });
        Assert.True(status == HttpStatusCode.OK, $"create user: {status} {body}");
        return (user, password);
    }
}
