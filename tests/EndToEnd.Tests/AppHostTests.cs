using System.Net;
using Aspire.Hosting;
using Aspire.Hosting.Testing;

namespace Berth.EndToEnd.Tests;

/// <summary>
/// The AppHost's standalone topology starts (Gateway + Server all) and serves
/// /v2 through the gateway, with tokens on: the client is challenged, logs in
/// at the token endpoint through the gateway, and pushes with the token.
/// </summary>
public sealed class AppHostTests
{
    [Fact]
    public async Task Standalone_topology_serves_the_registry_through_the_gateway()
    {
        Environment.SetEnvironmentVariable("ASPIRE_ALLOW_UNSECURED_TRANSPORT", "true");
        using var data = new Berth.TestSupport.TempDirectory("berth-apphost");
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            ["--Berth:DataDirectory", data.Path, "--Berth:AdminPassword", Berth.TestSupport.BerthHosts.AdminPassword]);
        await using var app = await builder.BuildAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await app.StartAsync(timeout.Token);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("gateway", timeout.Token);

        using var http = app.CreateHttpClient("gateway");
        using var challenge = await http.GetAsync("/v2/", timeout.Token);
        Assert.Equal(HttpStatusCode.Unauthorized, challenge.StatusCode);
        Assert.Equal("registry/2.0", challenge.Headers.GetValues("Docker-Distribution-API-Version").Single());
        Assert.StartsWith("Bearer realm=", challenge.Headers.WwwAuthenticate.ToString());

        var token = await Berth.TestSupport.RegistryLogin.TokenAsync(http, "admin", Berth.TestSupport.BerthHosts.AdminPassword, "repository:admin/blob:pull,push");
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var response = await http.GetAsync("/v2/", timeout.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var blob = "hello from the apphost"u8.ToArray();
        var digest = "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(blob));
        using var push = await http.PostAsync($"/v2/admin/blob/blobs/uploads/?digest={digest}", new ByteArrayContent(blob), timeout.Token);
        Assert.Equal(HttpStatusCode.Created, push.StatusCode);
        Assert.Equal(blob, await http.GetByteArrayAsync($"/v2/admin/blob/blobs/{digest}", timeout.Token));
    }
}
