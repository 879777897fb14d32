using Berth.TestSupport;

namespace Berth.EndToEnd.Tests;

/// <summary>
/// A Server on the embedded default and a Gateway in front of it, both on loopback
/// ports, set up as the standalone topology is: the gateway shares the blob storage
/// and sends whole-blob downloads itself (blob handoff).
/// </summary>
public sealed class BerthStack : IAsyncLifetime
{
    private readonly TempDirectory _data = new("berth-e2e");

    public RunningApp Server { get; private set; } = null!;
    public RunningApp Gateway { get; private set; } = null!;

    public string DataDirectory => _data.Path;

    /// <summary>host:port of the Server or the Gateway, as an image reference needs it.</summary>
    public string Host(bool throughGateway) => throughGateway ? Gateway.HostAndPort : Server.HostAndPort;

    public async Task InitializeAsync()
    {
        Server = await BerthHosts.StartServerAsync(_data.Path, "--Registry:BlobHandoff", "true");
        Gateway = await BerthHosts.StartGatewayAsync(Server.BaseAddress, "--Gateway:BlobHandoffRoot", Path.Combine(_data.Path, "storage"));
    }

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Server.DisposeAsync();
        _data.Dispose();
    }
}
