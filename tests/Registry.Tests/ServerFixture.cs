using Berth.TestSupport;

namespace Berth.Registry.Tests;

/// <summary>One embedded-default Server per test class, with its own data directory and any extra settings.</summary>
public abstract class ConfiguredServerFixture(string prefix, params string[] settings) : IAsyncLifetime
{
    private readonly TempDirectory _data = new(prefix);
    private RunningApp? _server;

    public RunningApp Server => _server ?? throw new InvalidOperationException("server not started");

    public string DataDirectory => _data.Path;

    public HttpClient CreateClient() => Server.CreateClient();

    public async Task InitializeAsync() => _server = await BerthHosts.StartServerAsync(_data.Path, settings);

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        _data.Dispose();
    }
}

public sealed class ServerFixture() : ConfiguredServerFixture("berth-registry");
