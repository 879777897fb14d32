using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Berth.TestSupport;

namespace Berth.Auth.Tests;

/// <summary>
/// One private repository, matrix/app, and every kind of caller: anonymous, a
/// reader, a writer, a repository admin, a member of a team with write, a
/// robot with write, and a superuser. Each /v2 and /api/v1 endpoint is called
/// by each of them and the outcome checked against the table below: allowed
/// means a 2xx answer, denied means 401 or 403, nothing else passes.
/// </summary>
public sealed class AuthorizationMatrixTests(AuthorizationMatrixTests.Setup setup) : IClassFixture<AuthorizationMatrixTests.Setup>
{
    public const string Repository = "matrix/app";

    public static readonly string[] Roles = ["anonymous", "reader", "writer", "admin", "team", "robot", "superuser"];

    private static readonly string[] Readers = ["reader", "writer", "admin", "team", "robot", "superuser"];
    private static readonly string[] Writers = ["writer", "admin", "team", "robot", "superuser"];
    private static readonly string[] Admins = ["admin", "superuser"];
    private static readonly string[] Superusers = ["superuser"];
    private static readonly string[] Everyone = Roles;

    /// <summary>The table: endpoint name → roles allowed.</summary>
    private static readonly Dictionary<string, string[]> Allowed = new()
    {
        ["v2 base GET"] = Everyone,
        ["v2 tags list GET"] = Readers,
        ["v2 manifest GET"] = Readers,
        ["v2 manifest HEAD"] = Readers,
        ["v2 referrers GET"] = Readers,
        ["v2 blob GET"] = Readers,
        ["v2 blob HEAD"] = Readers,
        ["v2 upload POST"] = Writers,
        ["v2 manifest PUT"] = Writers,
        ["v2 manifest DELETE"] = Writers,
        ["v2 blob DELETE"] = Writers,
        ["api repository GET"] = Readers,
        ["api tags GET"] = Readers,
        ["api manifest GET"] = Readers,
        ["api tag DELETE"] = Writers,
        ["api permissions GET"] = Admins,
        ["api permission PUT"] = Admins,
        ["api visibility PUT"] = Admins,
        ["api users GET"] = Superusers,
        ["api user POST"] = Superusers,
        ["api team PUT"] = Superusers,
        ["api robots GET"] = Superusers,
    };

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var endpoint in Allowed.Keys)
            foreach (var role in Roles)
                data.Add(endpoint, role);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Each_role_is_allowed_or_denied_as_the_table_says(string endpoint, string role)
    {
        using var response = await CallAsync(endpoint, role);
        var status = (int)response.StatusCode;
        var body = await response.Content.ReadAsStringAsync();
        if (Allowed[endpoint].Contains(role))
            Assert.True(status is >= 200 and < 300, $"{role} should be allowed {endpoint}: got {status} {body}");
        else
            Assert.True(status is 401 or 403, $"{role} should be denied {endpoint}: got {status} {body}");
    }

    [Theory]
    [MemberData(nameof(RoleCases))]
    public async Task Listings_show_the_repository_only_to_those_who_may_read_it(string role)
    {
        var mayRead = Readers.Contains(role);
        using var catalog = await setup.RegistryClientAsync(role);
        using var v2 = await catalog.GetAsync("/v2/_catalog?n=10000");
        Assert.Equal(HttpStatusCode.OK, v2.StatusCode);
        Assert.Equal(mayRead, (await v2.Content.ReadAsStringAsync()).Contains($"\"{Repository}\""));

        using var api = setup.ApiClient(role);
        using var listed = await api.GetAsync("/api/v1/repositories?pageSize=1000");
        if (role == "anonymous")
        {
            Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
            Assert.DoesNotContain($"\"{Repository}\"", await listed.Content.ReadAsStringAsync());
            return;
        }
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        Assert.Equal(mayRead, (await listed.Content.ReadAsStringAsync()).Contains($"\"{Repository}\""));
    }

    public static TheoryData<string> RoleCases() => [.. Roles];

    private async Task<HttpResponseMessage> CallAsync(string endpoint, string role)
    {
        var r = Repository;
        if (endpoint.StartsWith("v2 ", StringComparison.Ordinal))
        {
            using var http = await setup.RegistryClientAsync(role);
            return endpoint switch
            {
                "v2 base GET" => await http.GetAsync("/v2/"),
                "v2 tags list GET" => await http.GetAsync($"/v2/{r}/tags/list"),
                "v2 manifest GET" => await http.GetAsync($"/v2/{r}/manifests/v1"),
                "v2 manifest HEAD" => await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/{r}/manifests/v1")),
                "v2 referrers GET" => await http.GetAsync($"/v2/{r}/referrers/{setup.ManifestDigest}"),
                "v2 blob GET" => await http.GetAsync($"/v2/{r}/blobs/{setup.ConfigDigest}"),
                "v2 blob HEAD" => await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/{r}/blobs/{setup.ConfigDigest}")),
                "v2 upload POST" => await http.PostAsync($"/v2/{r}/blobs/uploads/", null),
                "v2 manifest PUT" => await http.PutAsync($"/v2/{r}/manifests/put-{role}", setup.ManifestContent()),
                "v2 manifest DELETE" => await http.DeleteAsync($"/v2/{r}/manifests/del-{role}"),
                "v2 blob DELETE" => await http.DeleteAsync($"/v2/{r}/blobs/{setup.BlobDigests[role]}"),
                _ => throw new ArgumentException(endpoint),
            };
        }
        using var api = setup.ApiClient(role);
        return endpoint switch
        {
            "api repository GET" => await api.GetAsync($"/api/v1/repositories/{r}"),
            "api tags GET" => await api.GetAsync($"/api/v1/tags/{r}"),
            "api manifest GET" => await api.GetAsync($"/api/v1/manifests/{r}?reference=v1"),
            "api tag DELETE" => await api.DeleteAsync($"/api/v1/tags/{r}?tag=apidel-{role}"),
            "api permissions GET" => await api.GetAsync($"/api/v1/permissions/{r}"),
            "api permission PUT" => await api.PutAsync($"/api/v1/permissions/{r}", Json(new { subjectKind = "user", subject = setup.Users["reader"], role = "read" })),
            "api visibility PUT" => await api.PutAsync($"/api/v1/visibility/{r}", Json(new { visibility = "private" })),
            "api users GET" => await api.GetAsync("/api/v1/users"),
            "api user POST" => await api.PostAsync("/api/v1/users", Json(new { name = SecuredServer.UniqueName("made"), password = "a-long-password" })),
            "api team PUT" => await api.PutAsync("/api/v1/organizations/matrix/teams/extra", Json(new { role = "member" })),
            "api robots GET" => await api.GetAsync("/api/v1/namespaces/matrix/robots"),
            _ => throw new ArgumentException(endpoint),
        };
    }

    private static StringContent Json(object value) => new(System.Text.Json.JsonSerializer.Serialize(value), Encoding.UTF8, "application/json");

    /// <summary>The repository, the accounts and per-role things to delete, made once for the class.</summary>
    public sealed class Setup : IAsyncLifetime
    {
        private readonly SecuredServer _server = new();
        private readonly Dictionary<string, string> _tokens = [];

        public Dictionary<string, string> Users { get; } = [];
        public Dictionary<string, string> Secrets { get; } = [];
        public Dictionary<string, string> BlobDigests { get; } = [];
        public string ManifestDigest { get; private set; } = "";
        public string ConfigDigest { get; private set; } = "";
        private byte[] _manifest = [];

        public async Task InitializeAsync()
        {
            await _server.InitializeAsync();
            using var admin = _server.AsAdmin();
            await _server.CallOkAsync(admin, HttpMethod.Post, "/api/v1/organizations", new { name = "matrix" });
            foreach (var role in new[] { "reader", "writer", "admin", "team" })
            {
                var name = SecuredServer.UniqueName(role);
                Users[role] = name;
                Secrets[role] = await _server.CreateUserAsync(name);
            }
            Users["superuser"] = SecuredServer.Admin;
            Secrets["superuser"] = SecuredServer.AdminPassword;
            await _server.CallOkAsync(admin, HttpMethod.Put, "/api/v1/organizations/matrix/teams/devs", new { role = "member" });
            await _server.CallOkAsync(admin, HttpMethod.Put, $"/api/v1/organizations/matrix/teams/devs/members/{Users["team"]}");
            var robot = await _server.CallOkAsync(admin, HttpMethod.Put, "/api/v1/namespaces/matrix/robots/ci");
            Users["robot"] = robot.GetProperty("robot").GetProperty("name").GetString()!;
            Secrets["robot"] = robot.GetProperty("token").GetString()!;

            using var push = await _server.WithTokenAsync(SecuredServer.Admin, SecuredServer.AdminPassword, $"repository:{Repository}:pull,push");
            ManifestDigest = await SecuredServer.PushImageAsync(push, Repository, "v1", "matrix");
            ConfigDigest = SecuredServer.Sha256(Encoding.UTF8.GetBytes("{\"architecture\":\"amd64\",\"os\":\"linux\",\"seed\":\"matrix\"}"));
            using (var manifest = await push.GetAsync($"/v2/{Repository}/manifests/v1"))
                _manifest = await manifest.Content.ReadAsByteArrayAsync();
            foreach (var role in Roles)
            {
                await SecuredServer.PushImageAsync(push, Repository, $"del-{role}", "matrix");
                await SecuredServer.PushImageAsync(push, Repository, $"apidel-{role}", "matrix");
                BlobDigests[role] = await SecuredServer.PushBlobAsync(push, Repository, Encoding.UTF8.GetBytes("deletable " + role));
            }

            foreach (var (role, grant) in new[] { ("reader", "read"), ("writer", "write"), ("admin", "admin") })
                await _server.CallOkAsync(admin, HttpMethod.Put, $"/api/v1/permissions/{Repository}", new { subjectKind = "user", subject = Users[role], role = grant });
            await _server.CallOkAsync(admin, HttpMethod.Put, $"/api/v1/permissions/{Repository}", new { subjectKind = "team", subject = "devs", role = "write" });
            await _server.CallOkAsync(admin, HttpMethod.Put, $"/api/v1/permissions/{Repository}", new { subjectKind = "robot", subject = Users["robot"], role = "write" });
        }

        public Task DisposeAsync() => _server.DisposeAsync();

        public ByteArrayContent ManifestContent()
        {
            var content = new ByteArrayContent(_manifest);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/vnd.oci.image.manifest.v1+json");
            return content;
        }

        /// <summary>A /v2 client with the token the role gets when it asks for everything on the repository and the catalog.</summary>
        public async Task<HttpClient> RegistryClientAsync(string role)
        {
            var http = _server.Anonymous();
            if (!_tokens.TryGetValue(role, out var token))
            {
                token = await RegistryLogin.TokenAsync(http, role == "anonymous" ? null : Users[role], role == "anonymous" ? null : Secrets[role],
                    $"repository:{Repository}:pull,push,delete", "registry:catalog:*");
                _tokens[role] = token;
            }
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            return http;
        }

        /// <summary>An API client sending the role's credentials (none for anonymous).</summary>
        public HttpClient ApiClient(string role) => role == "anonymous" ? _server.Anonymous() : _server.As(Users[role], Secrets[role]);
    }
}
