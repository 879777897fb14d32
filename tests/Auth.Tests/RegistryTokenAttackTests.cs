using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Berth.Access;
using Berth.Auth.Tokens;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Berth.Auth.Tests;

/// <summary>
/// Forged and stale tokens presented to the running registry: each is refused
/// with 401 and an invalid_token challenge, and the genuine token next to it works.
/// </summary>
public sealed class RegistryTokenAttackTests(SecuredServer server) : IClassFixture<SecuredServer>
{
    private const string Repository = "admin/attacked";

    [Fact]
    public async Task Forged_expired_future_foreign_and_tampered_tokens_are_refused()
    {
        using (var push = await server.WithTokenAsync(SecuredServer.Admin, SecuredServer.AdminPassword, $"repository:{Repository}:pull,push"))
            await SecuredServer.PushImageAsync(push, Repository, "v1");
        var genuine = await Berth.TestSupport.RegistryLogin.TokenAsync(server.Anonymous(), SecuredServer.Admin, SecuredServer.AdminPassword, $"repository:{Repository}:pull");
        Assert.Equal(HttpStatusCode.OK, await PullWithAsync(genuine));

        var ring = server.Server.App.Services.GetRequiredService<SigningKeyRing>();
        var grant = new TokenGrant("admin", "berth", [new ResourceScope(ResourceScope.Repository, Repository, new HashSet<string> { "pull" })]);
        var now = DateTimeOffset.UtcNow;
        var forged = new Dictionary<string, string>
        {
            ["expired"] = new TokenIssuer(ring, new FakeTimeProvider(now.AddHours(-1)), "berth-auth").Issue(grant, TimeSpan.FromMinutes(5)).Token,
            ["not yet valid"] = new TokenIssuer(ring, new FakeTimeProvider(now.AddHours(1)), "berth-auth").Issue(grant, TimeSpan.FromMinutes(5)).Token,
            ["wrong audience"] = new TokenIssuer(ring, TimeProvider.System, "berth-auth").Issue(grant with { Audience = "another-registry" }, TimeSpan.FromMinutes(5)).Token,
            ["wrong issuer"] = new TokenIssuer(ring, TimeProvider.System, "someone-else").Issue(grant, TimeSpan.FromMinutes(5)).Token,
            ["foreign key"] = new TokenIssuer(new SigningKeyRing(TimeProvider.System), TimeProvider.System, "berth-auth").Issue(grant, TimeSpan.FromMinutes(5)).Token,
            ["alg none"] = Unsigned(genuine),
            ["tampered payload"] = Tampered(genuine),
            ["hs256 with the public key"] = Hs256WithPublicKey(ring, genuine),
            ["garbage"] = "not.a.token",
        };
        foreach (var (name, token) in forged)
        {
            using var http = server.Anonymous();
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await http.GetAsync($"/v2/{Repository}/manifests/v1");
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{name}: {response.StatusCode}");
            Assert.Contains("error=\"invalid_token\"", response.Headers.WwwAuthenticate.ToString());
        }
    }

    [Fact]
    public async Task A_rotated_key_keeps_verifying_its_tokens_while_new_tokens_use_the_new_key()
    {
        using var anonymous = server.Anonymous();
        var before = await Berth.TestSupport.RegistryLogin.TokenAsync(anonymous, SecuredServer.Admin, SecuredServer.AdminPassword, "repository:admin/rotation:pull,push");
        using (var push = server.Anonymous())
        {
            push.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", before);
            await SecuredServer.PushImageAsync(push, "admin/rotation", "v1");
        }
        using var admin = server.AsAdmin();
        var rotated = await server.CallOkAsync(admin, HttpMethod.Post, "/api/v1/signingkeys/rotate");
        var newKey = rotated.GetProperty("keyId").GetString()!;
        var after = await Berth.TestSupport.RegistryLogin.TokenAsync(anonymous, SecuredServer.Admin, SecuredServer.AdminPassword, "repository:admin/rotation:pull");
        Assert.Equal(newKey, new JsonWebToken(after).Kid);
        Assert.NotEqual(newKey, new JsonWebToken(before).Kid);
        foreach (var token in new[] { before, after })
        {
            using var http = server.Anonymous();
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/v2/admin/rotation/manifests/v1")).StatusCode);
        }
        var jwks = await anonymous.GetStringAsync("/v2/auth/jwks");
        Assert.Contains(newKey, jwks);
        Assert.Contains(new JsonWebToken(before).Kid, jwks);
    }

    private async Task<HttpStatusCode> PullWithAsync(string token)
    {
        using var http = server.Anonymous();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.GetAsync($"/v2/{Repository}/manifests/v1");
        return response.StatusCode;
    }

    private static string Unsigned(string token)
    {
        var parts = token.Split('.');
        return $"{Base64UrlEncoder.Encode("{\"alg\":\"none\",\"typ\":\"JWT\"}")}.{parts[1]}.";
    }

    /// <summary>The genuine signature over a payload that now names another repository.</summary>
    private static string Tampered(string token)
    {
        var parts = token.Split('.');
        var payload = Base64UrlEncoder.Decode(parts[1]).Replace(Repository, "admin/other");
        return $"{parts[0]}.{Base64UrlEncoder.Encode(payload)}.{parts[2]}";
    }

    /// <summary>The classic algorithm-confusion forgery: HMAC keyed with the public key's bytes.</summary>
    private static string Hs256WithPublicKey(SigningKeyRing ring, string token)
    {
        var parts = token.Split('.');
        var header = Base64UrlEncoder.Encode($"{{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"{ring.Active.KeyId}\"}}");
        var key = ring.Active.Key.ExportSubjectPublicKeyInfo();
        var signature = HMACSHA256.HashData(key, Encoding.ASCII.GetBytes($"{header}.{parts[1]}"));
        return $"{header}.{parts[1]}.{Base64UrlEncoder.Encode(signature)}";
    }
}
