using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Berth.Auth.Tokens;
using Berth.TestSupport;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using StackExchange.Redis;

namespace Berth.Auth.Tests;

/// <summary>
/// Several Auth instances on one database, and registries in other processes,
/// after a key rotation: every instance signs with the new key and publishes it,
/// through the database alone or at once through Redis, and registries accept
/// tokens signed by it straight away, with or without Redis running, while trusting
/// no key that did not come from Auth.
/// </summary>
public sealed class SigningKeySharingTests
{
    [Fact]
    public async Task Without_redis_a_rotation_on_one_instance_reaches_the_other_through_the_database()
    {
        using var data = new TempDirectory("berth-keys-db");
        await using var a = await StartAuthAsync(data.Path);
        await using var b = await StartAuthAsync(data.Path);
        var before = await KeyIdOfTokenAsync(b);
        Assert.Equal(before, await KeyIdOfTokenAsync(a));

        var rotated = await RotateAsync(a);

        Assert.NotEqual(before, rotated);
        Assert.True(await WaitUntilAsync(async () => (await JwksKeyIdsAsync(b)).Contains(rotated), SigningKeySync.Period + TimeSpan.FromSeconds(5)),
            "b's JWKS never listed the key a rotated to");
        Assert.Equal(rotated, await KeyIdOfTokenAsync(b));
        // Tokens b signed before still verify: the old key stays published until they expire.
        Assert.Contains(before, await JwksKeyIdsAsync(b));
    }

    [SkippableFact]
    public async Task With_redis_the_other_instance_signs_with_the_new_key_within_two_seconds()
    {
        await using var redis = await RedisServer.StartAsync();
        using var data = new TempDirectory("berth-keys-redis");
        await using var a = await StartAuthAsync(data.Path, "--Auth:Redis", redis.Configuration);
        await using var b = await StartAuthAsync(data.Path, "--Auth:Redis", redis.Configuration);
        await AssertRotationReachesAtOnceAsync(a, b);
    }

    [SkippableFact]
    public async Task With_redis_and_postgresql_the_other_instance_signs_with_the_new_key_within_two_seconds()
    {
        var postgres = RequiredServer.Postgres();
        await using var database = await TemporaryPostgresDatabase.CreateAsync(postgres, "berth_auth");
        await using var redis = await RedisServer.StartAsync();
        using var data = new TempDirectory("berth-keys-pg");
        string[] args = ["--Auth:DatabaseProvider", "postgres", "--Auth:ConnectionString", database.ConnectionString, "--Auth:Redis", redis.Configuration];
        await using var a = await StartAuthAsync(data.Combine("a"), args);
        await using var b = await StartAuthAsync(data.Combine("b"), args);
        await AssertRotationReachesAtOnceAsync(a, b);
    }

    [SkippableFact]
    public async Task A_registry_hears_of_a_rotation_over_redis_and_trusts_only_keys_from_auth()
    {
        await using var redis = await RedisServer.StartAsync();
        using var data = new TempDirectory("berth-keys-registry");
        await using var auth = await StartAuthAsync(data.Combine("auth"), "--Auth:Redis", redis.Configuration);
        await using var registry = await StartRegistryAsync(data.Combine("registry"), auth, "--Registry:Redis", redis.Configuration);

        Assert.Equal(HttpStatusCode.OK, await PingAsync(registry, await TokenAsync(auth)));
        var rotated = await RotateAsync(auth);
        var fresh = await TokenAsync(auth);
        Assert.Equal(rotated, new JsonWebToken(fresh).Kid);
        Assert.Equal(HttpStatusCode.OK, await PingAsync(registry, fresh));

        // Whoever can write to Redis cannot make the registry trust a key of theirs:
        // a key document placed where one might be shared, then announced, changes nothing.
        using var attackerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var securityKey = new ECDsaSecurityKey(attackerKey) { KeyId = "attacker-key-01" };
        var jwk = JsonWebKeyConverter.ConvertFromECDsaSecurityKey(securityKey);
        using (var client = await ConnectionMultiplexer.ConnectAsync(redis.Configuration))
        {
            var document = JsonSerializer.Serialize(new { keys = new[] { new { kty = "EC", crv = "P-256", use = "sig", alg = "ES256", kid = jwk.Kid, x = jwk.X, y = jwk.Y } } });
            await client.GetDatabase().StringSetAsync("berth:auth:jwks", document);
            await client.GetSubscriber().PublishAsync(RedisChannel.Literal("berth:auth:keys-changed"), "rotated");
        }
        await Task.Delay(500);
        var forged = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = new JsonWebToken(fresh).Issuer,
            Audience = new JsonWebToken(fresh).Audiences.First(),
            Subject = new System.Security.Claims.ClaimsIdentity([new System.Security.Claims.Claim("sub", "admin")]),
            Expires = DateTime.UtcNow.AddMinutes(5),
            SigningCredentials = new SigningCredentials(securityKey, SecurityAlgorithms.EcdsaSha256),
        });
        Assert.Equal(HttpStatusCode.Unauthorized, await PingAsync(registry, forged));
        Assert.Equal(HttpStatusCode.OK, await PingAsync(registry, fresh));
    }

    [SkippableFact]
    public async Task A_registry_asks_auth_for_a_key_it_does_not_know_when_no_rotation_was_announced()
    {
        await using var redis = await RedisServer.StartAsync();
        using var data = new TempDirectory("berth-keys-unknown");
        // Auth has no Redis, so its rotation is announced nowhere.
        await using var auth = await StartAuthAsync(data.Combine("auth"));
        await using var registry = await StartRegistryAsync(data.Combine("registry"), auth, "--Registry:Redis", redis.Configuration);

        Assert.Equal(HttpStatusCode.OK, await PingAsync(registry, await TokenAsync(auth)));
        await RotateAsync(auth);
        // Announced nowhere and 30 s before the next scheduled read: accepted because the unknown key id was looked up.
        Assert.Equal(HttpStatusCode.OK, await PingAsync(registry, await TokenAsync(auth)));
        // A key id nobody has stays refused (and is looked up at most every 5 s).
        var forged = ForgedWithUnknownKey(await TokenAsync(auth));
        Assert.Equal(HttpStatusCode.Unauthorized, await PingAsync(registry, forged));
    }

    [SkippableFact]
    public async Task With_redis_down_auth_issues_and_rotates_and_the_registry_still_accepts_the_new_key()
    {
        await using var redis = await RedisServer.StartAsync();
        using var data = new TempDirectory("berth-keys-outage");
        await using var auth = await StartAuthAsync(data.Combine("auth"), "--Auth:Redis", redis.Configuration);
        await using var registry = await StartRegistryAsync(data.Combine("registry"), auth, "--Registry:Redis", redis.Configuration);
        Assert.Equal(HttpStatusCode.OK, await PingAsync(registry, await TokenAsync(auth)));

        await redis.KillAsync();

        var rotated = await RotateAsync(auth);
        var fresh = await TokenAsync(auth);
        Assert.Equal(rotated, new JsonWebToken(fresh).Kid);
        Assert.Contains(rotated, await JwksKeyIdsAsync(auth));
        Assert.Equal(HttpStatusCode.OK, await PingAsync(registry, fresh));
    }

    /// <summary>
    /// b started moments ago, so its first scheduled database check is about 10 s away:
    /// picking the key up within 2 s means the announcement over Redis woke it.
    /// </summary>
    private static async Task AssertRotationReachesAtOnceAsync(RunningApp a, RunningApp b)
    {
        var before = await KeyIdOfTokenAsync(b);
        var rotated = await RotateAsync(a);
        var clock = Stopwatch.StartNew();
        Assert.True(await WaitUntilAsync(async () => (await JwksKeyIdsAsync(b)).Contains(rotated), TimeSpan.FromSeconds(2)),
            "b's JWKS did not list the rotated key within 2 s");
        Assert.True(clock.Elapsed < SigningKeySync.Period);
        Assert.Equal(rotated, await KeyIdOfTokenAsync(b));
        Assert.Contains(before, await JwksKeyIdsAsync(b));

    }

    private static Task<RunningApp> StartAuthAsync(string dataDirectory, params string[] args) =>
        BerthHosts.StartSecuredServerAsync(dataDirectory, ["--services", "auth", .. args]);

    /// <summary>
    /// Starts a registry that trusts <paramref name="auth"/>'s keys, and waits until it accepts a token of
    /// Auth's: on a loaded machine its first read of Auth's keys can take longer than the 3 s a request
    /// waits for it, and these tests are about what happens after that read.
    /// </summary>
    private static async Task<RunningApp> StartRegistryAsync(string dataDirectory, RunningApp auth, params string[] args)
    {
        var registry = await BerthHosts.StartSecuredServerAsync(dataDirectory,
            ["--services", "registry", "--Registry:Authentication", "token", "--Registry:AuthUrl", auth.BaseAddress.ToString(), .. args]);
        try
        {
            var token = await TokenAsync(auth);
            var refusals = 0;
            while (await PingAsync(registry, token) != HttpStatusCode.OK)
            {
                if (++refusals == 40) Assert.Fail("the registry did not accept a token of Auth's within 20 s of starting");
                await Task.Delay(500);
            }
            // A refused try may have just looked the key up, and unknown keys are looked up at most every
            // 5 s: the tests' own look-ups start from the state a first accepted token leaves.
            if (refusals > 0) await Task.Delay(TimeSpan.FromSeconds(5.5));
            return registry;
        }
        catch
        {
            await registry.DisposeAsync();
            throw;
        }
    }

    private static async Task<string> RotateAsync(RunningApp auth)
    {
        using var admin = RegistryLogin.WithBasic(auth.CreateClient(), "admin", BerthHosts.AdminPassword);
        var (status, body) = await RegistryLogin.CallAsync(admin, HttpMethod.Post, "/api/v1/signingkeys/rotate");
        Assert.True(status == HttpStatusCode.OK, $"rotate: {status} {body}");
        return body!.Value.GetProperty("keyId").GetString()!;
    }

    private static async Task<string> TokenAsync(RunningApp auth)
    {
        using var http = auth.CreateClient();
        return await RegistryLogin.TokenAsync(http, "admin", BerthHosts.AdminPassword);
    }

    private static async Task<string> KeyIdOfTokenAsync(RunningApp auth) => new JsonWebToken(await TokenAsync(auth)).Kid;

    private static async Task<List<string>> JwksKeyIdsAsync(RunningApp auth)
    {
        using var http = auth.CreateClient();
        return KeyIds(await http.GetStringAsync("/v2/auth/jwks"));
    }

    private static List<string> KeyIds(string jwks) =>
        [.. JsonDocument.Parse(jwks).RootElement.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("kid").GetString()!)];

    /// <summary>GET /v2/ on the registry with the token: 200 when it accepts the token, 401 when not.</summary>
    private static async Task<HttpStatusCode> PingAsync(RunningApp registry, string token)
    {
        using var http = registry.CreateClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.GetAsync("/v2/");
        return response.StatusCode;
    }

    /// <summary>The token's payload and signature under a header naming a key no one has.</summary>
    private static string ForgedWithUnknownKey(string token)
    {
        var parts = token.Split('.');
        var header = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode("""{"alg":"ES256","kid":"no-such-key-000","typ":"JWT"}""");
        return $"{header}.{parts[1]}.{parts[2]}";
    }

    private static async Task<bool> WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (await condition()) return true;
            await Task.Delay(100);
        }
        return await condition();
    }
}
