using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Berth.TestSupport;

namespace Berth.Auth.Tests;

/// <summary>
/// A real Server with tokens on (the shipped default), its own data directory,
/// and the calls tests make against it: accounts through the REST API, tokens
/// through /v2/auth, pushes through /v2 with a token.
/// </summary>
public class SecuredServer : IAsyncLifetime
{
    private readonly TempDirectory _data = new("berth-auth");
    private RunningApp? _server;

    public const string Admin = "admin";
    public const string AdminPassword = BerthHosts.AdminPassword;

    /// <summary>Extra configuration for this server (a subclass's constructor sets it).</summary>
    public string[] Arguments { get; init; } = [];

    public RunningApp Server => _server ?? throw new InvalidOperationException("server not started");

    public string DataDirectory => _data.Path;

    public async Task InitializeAsync() => _server = await BerthHosts.StartSecuredServerAsync(_data.Path, Arguments);

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        _data.Dispose();
    }

    public HttpClient Anonymous() => Server.CreateClient();

    public HttpClient As(string user, string secret)
    {
        var http = Server.CreateClient();
        http.DefaultRequestHeaders.Authorization = RegistryLogin.Basic(user, secret);
        return http;
    }

    public HttpClient AsAdmin() => As(Admin, AdminPassword);

    /// <summary>A client whose every request carries a bearer token for <paramref name="scopes"/>.</summary>
    public async Task<HttpClient> WithTokenAsync(string? user, string? secret, params string[] scopes)
    {
        var http = Server.CreateClient();
        var token = await RegistryLogin.TokenAsync(http, user, secret, scopes);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    /// <summary>An account or repository name no other test uses.</summary>
    public static string UniqueName(string prefix) => $"{prefix}{Guid.NewGuid():N}"[..(prefix.Length + 10)];

    /// <summary>Creates a local user (as the superuser) and returns its password.</summary>
    public async Task<string> CreateUserAsync(string name)
    {
        var password = "pw-" + name + "-secret";
        using var admin = AsAdmin();
        var (status, body) = await RegistryLogin.CallAsync(admin, HttpMethod.Post, "/api/v1/users", new { name, password });
        Assert.True(status == HttpStatusCode.OK, $"create user {name}: {status} {body}");
        return password;
    }

    public async Task<JsonElement> CallOkAsync(HttpClient http, HttpMethod method, string path, object? body = null)
    {
        var (status, json) = await RegistryLogin.CallAsync(http, method, path, body);
        Assert.True(status == HttpStatusCode.OK, $"{method} {path}: {(int)status} {json}");
        return json ?? default;
    }

    /// <summary>Pushes a one-layer image as <paramref name="repository"/>:<paramref name="tag"/> with a token the client already carries.</summary>
    public static async Task<string> PushImageAsync(HttpClient http, string repository, string tag, string seed = "layer")
    {
        var config = Encoding.UTF8.GetBytes($"{{\"architecture\":\"amd64\",\"os\":\"linux\",\"seed\":\"{seed}\"}}");
        var layer = Encoding.UTF8.GetBytes("layer bytes " + seed);
        await PushBlobAsync(http, repository, config);
        await PushBlobAsync(http, repository, layer);
        var manifest = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
        {
            schemaVersion = 2,
            mediaType = "application/vnd.oci.image.manifest.v1+json",
            config = new { mediaType = "application/vnd.oci.image.config.v1+json", digest = Sha256(config), size = config.Length },
            layers = new[] { new { mediaType = "application/vnd.oci.image.layer.v1.tar", digest = Sha256(layer), size = layer.Length } },
        }));
        using var content = new ByteArrayContent(manifest);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/vnd.oci.image.manifest.v1+json");
        using var response = await http.PutAsync($"/v2/{repository}/manifests/{tag}", content);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"manifest push to {repository}: {response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return Sha256(manifest);
    }

    public static async Task<string> PushBlobAsync(HttpClient http, string repository, byte[] blob)
    {
        var digest = Sha256(blob);
        using var response = await http.PostAsync($"/v2/{repository}/blobs/uploads/?digest={digest}", new ByteArrayContent(blob));
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"blob push to {repository}: {response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return digest;
    }

    public static string Sha256(byte[] content) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));

    /// <summary>The access claim of a token, as (name, actions) pairs.</summary>
    public static Dictionary<string, string[]> AccessOf(string token)
    {
        var payload = token.Split('.')[1];
        var json = Encoding.UTF8.GetString(Microsoft.IdentityModel.Tokens.Base64UrlEncoder.DecodeBytes(payload));
        var result = new Dictionary<string, string[]>();
        using var document = JsonDocument.Parse(json);
        if (!document.RootElement.TryGetProperty("access", out var access)) return result;
        foreach (var entry in access.EnumerateArray())
            result[$"{entry.GetProperty("type").GetString()}:{entry.GetProperty("name").GetString()}"] =
                [.. entry.GetProperty("actions").EnumerateArray().Select(a => a.GetString()!)];
        return result;
    }
}
