using System.Net;
using Aspire.Hosting;
using Aspire.Hosting.Testing;

namespace Berth.EndToEnd.Tests;

/// <summary>The AppHost's standalone topology starts (Gateway + Server all) and serves /v2 through the gateway.</summary>
public sealed class AppHostTests
{
    [Fact]
    public async Task Standalone_topology_serves_the_registry_through_the_gateway()
    {
        Environment.SetEnvironmentVariable("ASPIRE_ALLOW_UNSECURED_TRANSPORT", "true");
        using var data = new Berth.TestSupport.TempDirectory("berth-apphost");
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(["--Berth:DataDirectory", data.Path]);
        await using var app = await builder.BuildAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await app.StartAsync(timeout.Token);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("gateway", timeout.Token);

        using var http = app.CreateHttpClient("gateway");
        using var response = await http.GetAsync("/v2/", timeout.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("registry/2.0", response.Headers.GetValues("Docker-Distribution-API-Version").Single());

        var blob = "hello from the apphost"u8.ToArray();
        var digest = "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(blob));
        using var push = await http.PostAsync($"/v2/apphost/blob/blobs/uploads/?digest={digest}", new ByteArrayContent(blob), timeout.Token);
        Assert.Equal(HttpStatusCode.Created, push.StatusCode);
        Assert.Equal(blob, await http.GetByteArrayAsync($"/v2/apphost/blob/blobs/{digest}", timeout.Token));
    }
}
