using System.Collections.Concurrent;
using Berth.Contracts.Registry;
using Berth.TestSupport;
using MassTransit;

namespace Berth.EndToEnd.Tests;

/// <summary>
/// The distributed topology as processes: Auth and two registry instances (each
/// with the collector), each its own Server process (`--services auth|registry,collector`)
/// with its own PostgreSQL database, sharing nothing but RabbitMQ, Redis, the blob store and Auth's
/// published keys; a Gateway in front. skopeo logs in, pushes and pulls
/// through the Gateway, and the push's and pulls' events reach a consumer in this process.
/// </summary>
[Collection(ContainerClientsCollection.Name)]
public sealed class DistributedTopologyTests(TestImages images)
{
    private const string AdminPassword = "distributed-admin-password";

    [SkippableFact]
    public async Task Skopeo_pushes_and_pulls_through_the_gateway_and_the_event_reaches_another_process()
    {
        var postgres = RequiredServer.Postgres();
        await using var authDatabase = await TemporaryPostgresDatabase.CreateAsync(postgres, "berth_auth");
        await using var registryDatabase = await TemporaryPostgresDatabase.CreateAsync(postgres, "berth_registry");
        await using var collectorDatabase = await TemporaryPostgresDatabase.CreateAsync(postgres, "berth_collector");
        await using var broker = await RabbitMqServer.StartAsync();
        await using var redis = await RedisServer.StartAsync();
        using var data = new TempDirectory("berth-distributed");
        string[] bus = ["--Bus:Transport", "rabbitmq", "--Bus:RabbitMqUrl", broker.Url];

        using var auth = await ServerProcess.StartAsync(Path.Combine(data.Path, "auth"), [
            "--services", "auth", "--Auth:DatabaseProvider", "postgres", "--Auth:ConnectionString", authDatabase.ConnectionString,
            "--Auth:InitialAdminPassword", AdminPassword, "--Auth:PasswordHashIterations", "1000", .. bus]);
        string[] registry = [
            "--services", "registry,collector", "--Registry:Authentication", "token", "--Registry:AuthUrl", auth.BaseAddress.ToString(),
            "--Collector:DatabaseProvider", "postgres", "--Collector:ConnectionString", collectorDatabase.ConnectionString,
            "--Collector:AuthUrl", auth.BaseAddress.ToString(),
            "--Registry:DatabaseProvider", "postgres", "--Registry:ConnectionString", registryDatabase.ConnectionString,
            "--Registry:StorageDirectory", Path.Combine(data.Path, "storage"), "--Registry:Redis", redis.Configuration, .. bus];
        using var first = await ServerProcess.StartAsync(Path.Combine(data.Path, "registry-a"), registry);
        using var second = await ServerProcess.StartAsync(Path.Combine(data.Path, "registry-b"), registry);
        await using var gateway = await BerthHosts.StartGatewayAsync(first.BaseAddress,
            "--ReverseProxy:Clusters:registry:Destinations:second:Address", second.BaseAddress.ToString(),
            "--ReverseProxy:Clusters:auth:Destinations:server:Address", auth.BaseAddress.ToString());

        var pushed = new ConcurrentQueue<ManifestPushed>();
        var pulled = new ConcurrentQueue<ManifestPulled>();
        var consumer = Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            rabbit.Host(new Uri(broker.Url));
            rabbit.ReceiveEndpoint($"berth-distributed-{Guid.NewGuid():N}", endpoint =>
            {
                endpoint.Handler<ManifestPushed>(context => { pushed.Enqueue(context.Message); return Task.CompletedTask; });
                endpoint.Handler<ManifestsPulled>(context =>
                {
                    foreach (var pull in context.Message.Pulls) pulled.Enqueue(pull);
                    return Task.CompletedTask;
                });
            });
        });
        await consumer.StartAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        try
        {
            var creds = $"admin:{AdminPassword}";
            await images.Tools.SkopeoAsync("copy", "--dest-tls-verify=false", "--dest-creds", creds,
                images.Reference(TestImages.Single), $"docker://{gateway.HostAndPort}/admin/distributed:1");
            var layout = images.Tools.Combine($"distributed-{Guid.NewGuid():N}");
            await images.Tools.SkopeoAsync("copy", "--src-tls-verify=false", "--src-creds", creds,
                $"docker://{gateway.HostAndPort}/admin/distributed:1", $"oci:{layout}:out");
            var raw = await images.Tools.SkopeoAsync("inspect", "--raw", "--tls-verify=false", "--creds", creds, $"docker://{gateway.HostAndPort}/admin/distributed:1");
            var stored = "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(raw)));
            Assert.Equal(stored, TestImages.DigestOf(layout, "out"));

            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (!pushed.Any(e => e.Repository == "admin/distributed") && DateTime.UtcNow < deadline) await Task.Delay(100);
            var manifestPushed = Assert.Single(pushed, e => e.Repository == "admin/distributed");
            Assert.Equal(stored, manifestPushed.Digest);
            Assert.Equal(["1"], manifestPushed.Tags);
            Assert.Equal("admin", manifestPushed.Actor.Name);
            Assert.NotEmpty(manifestPushed.Layers);
            // skopeo's pull (copy) and inspect each GET the manifest by tag; both pulls arrive, attributed to admin.
            deadline = DateTime.UtcNow.AddSeconds(30);
            while (pulled.Count(e => e.Repository == "admin/distributed") < 2 && DateTime.UtcNow < deadline) await Task.Delay(100);
            var pulls = pulled.Where(e => e.Repository == "admin/distributed").ToList();
            Assert.True(pulls.Count >= 2, $"{pulls.Count} pull events arrived");
            Assert.All(pulls, p => Assert.Equal(("admin", stored), (p.Actor.Name, p.Digest)));
            Assert.Contains(pulls, p => p.Tag == "1");

            // Without credentials the same pull is refused: tokens come from the Auth process, checked by the registries with its keys.
            var empty = images.Tools.Combine($"empty-{Guid.NewGuid():N}.json");
            File.WriteAllText(empty, "{}");
            var refused = await images.Tools.TryRunAsync("skopeo", ["inspect", "--authfile", empty, "--tls-verify=false", $"docker://{gateway.HostAndPort}/admin/distributed:1"]);
            Assert.NotEqual(0, refused.ExitCode);

            // Listings and the registry's API ask the Auth process (its AccessService) who may see what.
            using var http = gateway.CreateClient();
            var token = await RegistryLogin.TokenAsync(http, "admin", AdminPassword, "registry:catalog:*");
            using (var catalog = new HttpRequestMessage(HttpMethod.Get, "/v2/_catalog"))
            {
                catalog.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
                using var listed = await http.SendAsync(catalog);
                Assert.Equal(System.Net.HttpStatusCode.OK, listed.StatusCode);
                Assert.Contains("admin/distributed", await listed.Content.ReadAsStringAsync());
            }
            var anonymousToken = await RegistryLogin.TokenAsync(http, null, null, "registry:catalog:*");
            using (var catalog = new HttpRequestMessage(HttpMethod.Get, "/v2/_catalog"))
            {
                catalog.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", anonymousToken);
                using var listed = await http.SendAsync(catalog);
                Assert.Equal(System.Net.HttpStatusCode.OK, listed.StatusCode);
                Assert.DoesNotContain("admin/distributed", await listed.Content.ReadAsStringAsync());
            }
            var (status, repository) = await RegistryLogin.CallAsync(RegistryLogin.WithBasic(gateway.CreateClient(), "admin", AdminPassword), HttpMethod.Get, "/api/v1/repositories/admin/distributed");
            Assert.Equal(System.Net.HttpStatusCode.OK, status);
            Assert.Equal("admin/distributed", repository!.Value.GetProperty("name").GetString());
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await RegistryLogin.CallAsync(gateway.CreateClient(), HttpMethod.Get, "/api/v1/repositories/admin/distributed")).Status);

            // The collector runs next to each registry on one shared database: a collection started through
            // the Gateway (on either instance) finishes, and every answer about it, from either instance, agrees.
            var admin = RegistryLogin.WithBasic(gateway.CreateClient(), "admin", AdminPassword);
            var (started, run) = await RegistryLogin.CallAsync(admin, HttpMethod.Post, "/api/v1/collector/runs", new { @namespace = "admin", dryRun = true });
            Assert.Equal(System.Net.HttpStatusCode.OK, started);
            var id = run!.Value.GetProperty("id").GetString();
            deadline = DateTime.UtcNow.AddSeconds(30);
            string? state;
            do
            {
                var (seen, body) = await RegistryLogin.CallAsync(admin, HttpMethod.Get, $"/api/v1/collector/runs/{id}");
                Assert.Equal(System.Net.HttpStatusCode.OK, seen);
                state = body!.Value.GetProperty("status").GetString();
                if (state == "running") await Task.Delay(100);
            } while (state == "running" && DateTime.UtcNow < deadline);
            Assert.Equal("succeeded", state);
        }
        finally
        {
            await consumer.StopAsync();
        }
    }
}
