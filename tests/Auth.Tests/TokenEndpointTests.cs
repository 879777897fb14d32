using System.Net;
using System.Text.Json;
using Berth.TestSupport;

namespace Berth.Auth.Tests;

/// <summary>/v2/auth and the registry's challenge, against a real Server: the flow unmodified clients follow.</summary>
public sealed class TokenEndpointTests(SecuredServer server) : IClassFixture<SecuredServer>
{
    [Fact]
    public async Task The_registry_challenges_with_realm_service_and_scope()
    {
        using var http = server.Anonymous();
        using var baseResponse = await http.GetAsync("/v2/");
        Assert.Equal(HttpStatusCode.Unauthorized, baseResponse.StatusCode);
        Assert.Equal($"Bearer realm=\"{server.Server.BaseAddress.ToString().TrimEnd('/')}/v2/auth\",service=\"berth\"", baseResponse.Headers.WwwAuthenticate.ToString());

        using var manifest = await http.GetAsync("/v2/acme/web/manifests/latest");
        Assert.Equal(HttpStatusCode.Unauthorized, manifest.StatusCode);
        Assert.Contains("scope=\"repository:acme/web:pull\"", manifest.Headers.WwwAuthenticate.ToString());
        Assert.Contains("\"UNAUTHORIZED\"", await manifest.Content.ReadAsStringAsync());

        using var push = await http.PostAsync("/v2/acme/web/blobs/uploads/", null);
        Assert.Contains("scope=\"repository:acme/web:pull,push\"", push.Headers.WwwAuthenticate.ToString());

        using var catalog = await http.GetAsync("/v2/_catalog");
        Assert.Contains("scope=\"registry:catalog:*\"", catalog.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task An_anonymous_token_opens_the_base_endpoint_but_no_private_repository()
    {
        using var http = await server.WithTokenAsync(null, null, "repository:admin/private:pull");
        var token = http.DefaultRequestHeaders.Authorization!.Parameter!;
        Assert.Empty(SecuredServer.AccessOf(token));
        using var baseResponse = await http.GetAsync("/v2/");
        Assert.Equal(HttpStatusCode.OK, baseResponse.StatusCode);
        using var pull = await http.GetAsync("/v2/admin/private/manifests/latest");
        Assert.Equal(HttpStatusCode.Unauthorized, pull.StatusCode);
        Assert.Contains("error=\"insufficient_scope\"", pull.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task A_password_login_gets_a_token_that_pushes_to_the_users_own_namespace()
    {
        using var http = await server.WithTokenAsync(SecuredServer.Admin, SecuredServer.AdminPassword, "repository:admin/tokens:pull,push");
        // Exactly what was asked: the owner could also delete, but did not ask to.
        Assert.Equal(["pull", "push"], SecuredServer.AccessOf(http.DefaultRequestHeaders.Authorization!.Parameter!)["repository:admin/tokens"].Order());
        await SecuredServer.PushImageAsync(http, "admin/tokens", "v1");
        using var pulled = await http.GetAsync("/v2/admin/tokens/manifests/v1");
        Assert.Equal(HttpStatusCode.OK, pulled.StatusCode);
    }

    [Fact]
    public async Task Token_response_has_the_fields_clients_read()
    {
        using var http = server.AsAdmin();
        using var response = await http.GetAsync(RegistryLogin.TokenPath("repository:admin/x:pull"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(body.GetProperty("token").GetString(), body.GetProperty("access_token").GetString());
        Assert.Equal(300, body.GetProperty("expires_in").GetInt32());
        Assert.True(DateTimeOffset.TryParse(body.GetProperty("issued_at").GetString(), out _));
        Assert.False(body.TryGetProperty("refresh_token", out _));
    }

    [Fact]
    public async Task Wrong_credentials_malformed_basic_and_a_foreign_service_are_refused_cleanly()
    {
        var user = SecuredServer.UniqueName("wrong");
        await server.CreateUserAsync(user);
        using var bad = server.As(user, "not-the-password");
        using var wrong = await bad.GetAsync(RegistryLogin.TokenPath("repository:x/y:pull"));
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.DoesNotContain("not-the-password", await wrong.Content.ReadAsStringAsync());

        using var http = server.Anonymous();
        foreach (var header in new[] { "Basic !!!notbase64", "Basic " + Convert.ToBase64String("no-colon"u8.ToArray()), "Digest abc", "Basic " + Convert.ToBase64String([0xff, 0xfe, 0x3a]) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, RegistryLogin.TokenPath());
            request.Headers.TryAddWithoutValidation("Authorization", header);
            using var response = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        using var foreign = await http.GetAsync("/v2/auth?service=someone-else&scope=repository:a/b:pull");
        Assert.Equal(HttpStatusCode.BadRequest, foreign.StatusCode);
    }

    [Fact]
    public async Task Repeated_failures_throttle_the_account_even_for_the_right_password()
    {
        var user = SecuredServer.UniqueName("throttle");
        var password = await server.CreateUserAsync(user);
        using var bad = server.As(user, "wrong-password");
        for (var i = 0; i < 5; i++)
        {
            using var failed = await bad.GetAsync(RegistryLogin.TokenPath());
            Assert.Equal(HttpStatusCode.Unauthorized, failed.StatusCode);
        }
        using var good = server.As(user, password);
        using var blocked = await good.GetAsync(RegistryLogin.TokenPath());
        Assert.Equal((HttpStatusCode)429, blocked.StatusCode);
        Assert.True(blocked.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task OAuth2_password_grant_returns_a_refresh_token_that_later_grants_tokens()
    {
        using var http = server.Anonymous();
        using var login = await http.PostAsync("/v2/auth", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "password", ["username"] = SecuredServer.Admin, ["password"] = SecuredServer.AdminPassword,
            ["service"] = "berth", ["client_id"] = "tests", ["access_type"] = "offline", ["scope"] = "repository:admin/oauth:pull",
        }));
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var body = JsonDocument.Parse(await login.Content.ReadAsStringAsync()).RootElement;
        var refresh = body.GetProperty("refresh_token").GetString()!;
        Assert.Contains("repository:admin/oauth:pull", body.GetProperty("scope").GetString());

        using var renewed = await http.PostAsync("/v2/auth", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token", ["refresh_token"] = refresh, ["service"] = "berth", ["client_id"] = "tests",
            ["scope"] = "repository:admin/oauth:pull,push",
        }));
        Assert.Equal(HttpStatusCode.OK, renewed.StatusCode);
        var token = JsonDocument.Parse(await renewed.Content.ReadAsStringAsync()).RootElement.GetProperty("access_token").GetString()!;
        Assert.Contains("push", SecuredServer.AccessOf(token)["repository:admin/oauth"]);

        foreach (var form in new[]
                 {
                     new Dictionary<string, string> { ["grant_type"] = "refresh_token", ["refresh_token"] = refresh + "x", ["service"] = "berth" },
                     new Dictionary<string, string> { ["grant_type"] = "client_credentials", ["service"] = "berth" },
                 })
        {
            using var refused = await http.PostAsync("/v2/auth", new FormUrlEncodedContent(form));
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        }
        using var notAForm = await http.PostAsync("/v2/auth", new StringContent("{}"));
        Assert.Equal(HttpStatusCode.BadRequest, notAForm.StatusCode);
    }

    [Fact]
    public async Task Get_with_offline_token_returns_a_refresh_token()
    {
        using var http = server.AsAdmin();
        using var response = await http.GetAsync(RegistryLogin.TokenPath() + "&offline_token=true&client_id=docker");
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.False(string.IsNullOrEmpty(body.GetProperty("refresh_token").GetString()));
    }

    [Fact]
    public async Task The_jwks_publishes_the_key_that_signed_the_token()
    {
        using var http = server.Anonymous();
        var token = await RegistryLogin.TokenAsync(http, null, null);
        var header = JsonDocument.Parse(Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Decode(token.Split('.')[0])).RootElement;
        Assert.Equal("ES256", header.GetProperty("alg").GetString());
        var jwks = JsonDocument.Parse(await http.GetStringAsync("/v2/auth/jwks")).RootElement.GetProperty("keys");
        Assert.Contains(jwks.EnumerateArray(), k => k.GetProperty("kid").GetString() == header.GetProperty("kid").GetString());
        Assert.All(jwks.EnumerateArray(), k => Assert.False(k.TryGetProperty("d", out _)));
    }
}
