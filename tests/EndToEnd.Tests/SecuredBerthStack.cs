using Berth.TestSupport;

namespace Berth.EndToEnd.Tests;

/// <summary>
/// The Server as it ships, tokens on, behind the Gateway: what a platform team
/// runs. Clients reach everything (/v2, /v2/auth, /api/v1) through the Gateway.
/// </summary>
public sealed class SecuredBerthStack : IAsyncLifetime
{
    private readonly TempDirectory _data = new("berth-e2e-secured");

    public RunningApp Server { get; private set; } = null!;
    public RunningApp Gateway { get; private set; } = null!;

    public string Host => Gateway.HostAndPort;

    public async Task InitializeAsync()
    {
        Server = await BerthHosts.StartSecuredServerAsync(_data.Path);
        Gateway = await BerthHosts.StartGatewayAsync(Server.BaseAddress);
    }

    /// <summary>A management API client through the Gateway with <paramref name="user"/>'s credentials.</summary>
    public HttpClient Api(string user, string secret) => RegistryLogin.WithBasic(Gateway.CreateClient(), user, secret);

    public HttpClient AdminApi() => Api("admin", BerthHosts.AdminPassword);

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Server.DisposeAsync();
        _data.Dispose();
    }
}
