using System.Diagnostics;

namespace Berth.TestSupport;

/// <summary>
/// A private redis-server for a test (Debian package redis-server) on a loopback
/// port, with no persistence; it can be killed and started again on the same port.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private const string Binary = "/usr/bin/redis-server";
    private readonly TempDirectory _directory = new("berth-redis");
    private readonly int _port = LoopbackPorts.Free();
    private Process? _process;

    private RedisServer() { }

    /// <summary>The StackExchange.Redis configuration string for this server.</summary>
    public string Configuration => $"127.0.0.1:{_port}";

    /// <summary>Starts a server, or skips (fails under CI=true) when redis-server is not installed.</summary>
    public static async Task<RedisServer> StartAsync()
    {
        RequiredServer.Require(File.Exists(Binary), "redis-server is not installed (apt-get install redis-server)");
        var server = new RedisServer();
        await server.StartProcessAsync();
        return server;
    }

    public async Task StartProcessAsync()
    {
        var start = new ProcessStartInfo(Binary) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _directory.Path };
        foreach (var argument in new[] { "--port", _port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
                     "--save", "", "--appendonly", "no", "--dir", _directory.Path, "--daemonize", "no" })
            start.ArgumentList.Add(argument);
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        if (!await LoopbackPorts.WaitUntilListeningAsync(_port, TimeSpan.FromSeconds(15), _process))
            throw new InvalidOperationException($"redis-server did not listen on {_port}");
    }

    /// <summary>Kills the server (an outage, not a clean shutdown).</summary>
    public async Task KillAsync()
    {
        if (_process is null || _process.HasExited) return;
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process?.Dispose();
        _directory.Dispose();
    }
}
