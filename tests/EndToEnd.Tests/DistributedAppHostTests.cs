using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Berth.TestSupport;

namespace Berth.EndToEnd.Tests;

/// <summary>
/// The AppHost's distributed topology with locally installed infrastructure
/// (Berth:Infrastructure=local): it starts PostgreSQL, Redis and RabbitMQ as
/// executables, then Auth, two registry instances and the Gateway, and a client
/// logs in and pushes and pulls through the Gateway.
/// </summary>
public sealed class DistributedAppHostTests
{
    [SkippableFact]
    public async Task Distributed_topology_with_local_servers_serves_through_the_gateway()
    {
        RequiredServer.Require(File.Exists("/usr/bin/redis-server") && File.Exists("/usr/lib/rabbitmq/bin/rabbitmq-server")
            && Directory.Exists("/usr/lib/postgresql"), "postgresql, redis-server and rabbitmq-server must be installed");
        Environment.SetEnvironmentVariable("ASPIRE_ALLOW_UNSECURED_TRANSPORT", "true");
        using var data = new Berth.TestSupport.TempDirectory("berth-apphost-distributed");
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
        [
            "--Berth:Topology", "distributed", "--Berth:Infrastructure", "local", "--Berth:DataDirectory", data.Path,
            "--Berth:AdminPassword", BerthHosts.AdminPassword,
            "--Berth:Ports:Postgres", Port(), "--Berth:Ports:Redis", Port(), "--Berth:Ports:RabbitMq", Port(), "--Berth:Ports:RabbitMqDistribution", Port(),
        ]);
        await using var app = await builder.BuildAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await app.StartAsync(timeout.Token);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("gateway", timeout.Token);

        using var http = app.CreateHttpClient("gateway");
        var token = await RegistryLogin.TokenAsync(http, "admin", BerthHosts.AdminPassword, "repository:admin/apphost:pull,push", "registry:catalog:*");
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var blob = "pushed through the distributed topology"u8.ToArray();
        var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(blob));
        using (var push = await http.PostAsync($"/v2/admin/apphost/blobs/uploads/?digest={digest}", new ByteArrayContent(blob), timeout.Token))
            Assert.Equal(HttpStatusCode.Created, push.StatusCode);
        // Both registry instances serve it (the Gateway spreads requests over them).
        for (var i = 0; i < 6; i++)
            Assert.Equal(blob, await http.GetByteArrayAsync($"/v2/admin/apphost/blobs/{digest}", timeout.Token));
        Assert.Contains("admin/apphost", await http.GetStringAsync("/v2/_catalog", timeout.Token));

        // The audit log process consumed the upload's event from RabbitMQ; its API answers through the Gateway.
        await app.ResourceNotifications.WaitForResourceHealthyAsync("auditlog", timeout.Token);
        using var api = RegistryLogin.WithBasic(app.CreateHttpClient("gateway"), "admin", BerthHosts.AdminPassword);
        var recorded = false;
        while (!recorded && !timeout.IsCancellationRequested)
        {
            var (status, body) = await RegistryLogin.CallAsync(api, HttpMethod.Get, "/api/v1/auditlog/entries?repository=admin/apphost&kind=upload_blob");
            Assert.Equal(HttpStatusCode.OK, status);
            recorded = body!.Value.TryGetProperty("entries", out var entries) && entries.GetArrayLength() == 1
                && entries[0].GetProperty("performer").GetString() == "admin";
            if (!recorded) await Task.Delay(250, timeout.Token);
        }
        Assert.True(recorded, "the upload never appeared in the audit log");
    }

    private static string Port() => LoopbackPorts.Free().ToString(System.Globalization.CultureInfo.InvariantCulture);
}
