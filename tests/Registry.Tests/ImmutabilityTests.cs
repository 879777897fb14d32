using System.Net;
using Berth.TestSupport;

namespace Berth.Registry.Tests;

/// <summary>Immutable tags: rules per namespace and repository, refusals with a clear error, and who may manage the rules.</summary>
public sealed class ImmutabilityTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly OciClient _oci = new(fixture.CreateClient());

    private HttpClient Admin() => RegistryLogin.WithBasic(fixture.CreateClient(), "admin", BerthHosts.AdminPassword);

    private async Task<long> CreateRuleAsync(string @namespace, string? repository, string pattern)
    {
        var (status, body) = await RegistryLogin.CallAsync(Admin(), HttpMethod.Post, "/api/v1/collector/immutability",
            new { @namespace, repository = repository ?? "", tagPattern = pattern });
        Assert.Equal(HttpStatusCode.OK, status);
        return body!.Value.GetProperty("id").GetInt64();
    }

    private static async Task AssertDeniedAsync(HttpResponseMessage response, string tag)
    {
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(["DENIED"], await OciClient.ErrorCodesAsync(response));
        using var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var message = body.RootElement.GetProperty("errors")[0].GetProperty("message").GetString()!;
        Assert.Contains($"tag '{tag}'", message);
        Assert.Contains("is immutable (rule ", message);
    }

    [Fact]
    public async Task A_matching_tag_cannot_be_pushed_over_deleted_or_expired_and_others_can()
    {
        var @namespace = "imm" + Guid.NewGuid().ToString("N")[..8];
        var repository = $"{@namespace}/app";
        var ruleId = await CreateRuleAsync(@namespace, null, "v[0-9]+(\\.[0-9]+)*");

        var (_, released) = await _oci.PushImageAsync(repository, "v1.0");
        // Pushing the same image under the tag again changes nothing and is allowed.
        using (var again = await _oci.PutManifestAsync(repository, "v1.0", await ManifestOfAsync(repository, "v1.0"), OciClient.OciManifestType))
            Assert.Equal(HttpStatusCode.Created, again.StatusCode);

        var other = await _oci.NewImageManifestAsync(repository);
        using (var overwrite = await _oci.PutManifestAsync(repository, "v1.0", other, OciClient.OciManifestType))
            await AssertDeniedAsync(overwrite, "v1.0");
        using (var delete = await _oci.SendAsync(HttpMethod.Delete, $"/v2/{repository}/manifests/v1.0"))
            await AssertDeniedAsync(delete, "v1.0");
        using (var deleteByDigest = await _oci.SendAsync(HttpMethod.Delete, $"/v2/{repository}/manifests/{released}"))
            await AssertDeniedAsync(deleteByDigest, "v1.0");
        var (expire, _) = await RegistryLogin.CallAsync(_oci.Http, HttpMethod.Put, $"/api/v1/tags/{repository}",
            new { tag = "v1.0", expiresAt = DateTime.UtcNow.AddDays(1).ToString("O") });
        Assert.Equal(HttpStatusCode.Forbidden, expire);
        var (permanent, _) = await RegistryLogin.CallAsync(_oci.Http, HttpMethod.Delete, $"/api/v1/tags/{repository}?tag=v1.0&permanently=true");
        Assert.Equal(HttpStatusCode.Forbidden, permanent);

        // Nothing changed: the tag still points at the released image.
        using (var get = await _oci.SendAsync(HttpMethod.Get, $"/v2/{repository}/manifests/v1.0", configure: r => r.Headers.Accept.ParseAdd(OciClient.OciManifestType)))
            Assert.Equal(released, OciClient.Header(get, "Docker-Content-Digest"));

        // Tags outside the pattern move freely.
        await _oci.PushImageAsync(repository, "latest");
        await _oci.PushImageAsync(repository, "latest");

        // Without the rule, the tag may move again.
        Assert.Equal(HttpStatusCode.OK, (await RegistryLogin.CallAsync(Admin(), HttpMethod.Delete, $"/api/v1/collector/immutability/{ruleId}")).Status);
        using var moved = await _oci.PutManifestAsync(repository, "v1.0", other, OciClient.OciManifestType);
        Assert.Equal(HttpStatusCode.Created, moved.StatusCode);
    }

    [Fact]
    public async Task A_repository_rule_leaves_the_rest_of_the_namespace_alone()
    {
        var @namespace = "immrepo" + Guid.NewGuid().ToString("N")[..8];
        await CreateRuleAsync(@namespace, $"{@namespace}/locked", ".*");
        await _oci.PushImageAsync($"{@namespace}/locked", "any");
        await _oci.PushImageAsync($"{@namespace}/free", "any");
        using (var locked = await _oci.SendAsync(HttpMethod.Delete, $"/v2/{@namespace}/locked/manifests/any"))
            await AssertDeniedAsync(locked, "any");
        using var free = await _oci.SendAsync(HttpMethod.Delete, $"/v2/{@namespace}/free/manifests/any");
        Assert.Equal(HttpStatusCode.Accepted, free.StatusCode);
    }

    [Fact]
    public async Task Bad_rules_are_refused_and_only_namespace_admins_manage_them()
    {
        var admin = Admin();
        Assert.Equal(HttpStatusCode.BadRequest, (await RegistryLogin.CallAsync(admin, HttpMethod.Post, "/api/v1/collector/immutability", new { @namespace = "x", tagPattern = "v[" })).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await RegistryLogin.CallAsync(admin, HttpMethod.Post, "/api/v1/collector/immutability", new { @namespace = "x", tagPattern = "" })).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await RegistryLogin.CallAsync(admin, HttpMethod.Post, "/api/v1/collector/immutability", new { @namespace = "x", repository = "y/app", tagPattern = ".*" })).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await RegistryLogin.CallAsync(admin, HttpMethod.Delete, "/api/v1/collector/immutability/999999")).Status);

        Assert.Equal(HttpStatusCode.OK, (await RegistryLogin.CallAsync(admin, HttpMethod.Post, "/api/v1/users", new { name = "frank", password = "frank-password-1" })).Status);
        var frank = RegistryLogin.WithBasic(fixture.CreateClient(), "frank", "frank-password-1");
        Assert.Equal(HttpStatusCode.Forbidden, (await RegistryLogin.CallAsync(frank, HttpMethod.Post, "/api/v1/collector/immutability", new { @namespace = "acme", tagPattern = ".*" })).Status);
        var (own, _) = await RegistryLogin.CallAsync(frank, HttpMethod.Post, "/api/v1/collector/immutability", new { @namespace = "frank", tagPattern = "release-.*" });
        Assert.Equal(HttpStatusCode.OK, own);
        var (listed, body) = await RegistryLogin.CallAsync(frank, HttpMethod.Get, "/api/v1/collector/immutability?namespace=frank");
        Assert.Equal(HttpStatusCode.OK, listed);
        Assert.Equal("release-.*", body!.Value.GetProperty("rules")[0].GetProperty("tagPattern").GetString());
    }

    private async Task<byte[]> ManifestOfAsync(string repository, string tag)
    {
        using var response = await _oci.SendAsync(HttpMethod.Get, $"/v2/{repository}/manifests/{tag}", configure: r => r.Headers.Accept.ParseAdd(OciClient.OciManifestType));
        return await response.Content.ReadAsByteArrayAsync();
    }
}
