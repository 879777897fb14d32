using System.Diagnostics;

namespace Berth.TestSupport;

/// <summary>
/// A private RabbitMQ node for a test (Debian's rabbitmq-server): its own node
/// name, ports on loopback and data in a temp directory, so it can be stopped
/// and started again (an outage) without touching anything else. Messages and
/// durable queues survive a stop, as on a real broker.
/// </summary>
public sealed class RabbitMqServer : IAsyncDisposable
{
    private const string ServerScript = "/usr/lib/rabbitmq/bin/rabbitmq-server";
    private const string ControlScript = "/usr/lib/rabbitmq/bin/rabbitmqctl";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly TempDirectory _directory = new("berth-rabbitmq");
    private readonly string _node = $"berth{Guid.NewGuid():N}"[..13] + "@localhost";
    private readonly int _port = LoopbackPorts.Free();
    private readonly int _distributionPort = LoopbackPorts.Free();
    private Process? _process;

    private RabbitMqServer() => File.WriteAllText(_directory.Combine("enabled_plugins"), "[].\n");

    /// <summary>The AMQP URL clients connect with (the default guest account, loopback only).</summary>
    public string Url => $"amqp://guest:guest@127.0.0.1:{_port}/";

    /// <summary>Starts a node, or skips (fails under CI=true) when RabbitMQ is not installed.</summary>
    public static async Task<RabbitMqServer> StartAsync()
    {
        RequiredServer.Require(File.Exists(ServerScript), "rabbitmq-server is not installed (apt-get install rabbitmq-server)");
        var server = new RabbitMqServer();
        await server.StartNodeAsync();
        return server;
    }

    public async Task StartNodeAsync()
    {
        var start = Configure(new ProcessStartInfo(ServerScript) { RedirectStandardOutput = true, RedirectStandardError = true });
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        if (!await LoopbackPorts.WaitUntilListeningAsync(_port, StartTimeout, _process))
            throw new InvalidOperationException($"RabbitMQ node {_node} did not listen on {_port} within {StartTimeout.TotalSeconds} s");
    }

    /// <summary>Stops the node cleanly (rabbitmqctl stop) and waits for it to be gone.</summary>
    public async Task StopNodeAsync()
    {
        if (_process is null || _process.HasExited) return;
        var stop = Configure(new ProcessStartInfo(ControlScript) { RedirectStandardOutput = true, RedirectStandardError = true });
        stop.ArgumentList.Add("stop");
        using (var control = Process.Start(stop)!)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await control.WaitForExitAsync(timeout.Token);
        }
        using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await _process.WaitForExitAsync(exit.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopNodeAsync();
        }
        finally
        {
            if (_process is { HasExited: false }) _process.Kill(entireProcessTree: true);
            _process?.Dispose();
            _directory.Dispose();
        }
    }

    private ProcessStartInfo Configure(ProcessStartInfo start)
    {
        var environment = start.Environment;
        environment["HOME"] = _directory.Path;
        environment["RABBITMQ_NODENAME"] = _node;
        environment["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1";
        environment["RABBITMQ_NODE_PORT"] = _port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        environment["RABBITMQ_DIST_PORT"] = _distributionPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        environment["RABBITMQ_MNESIA_BASE"] = _directory.Combine("mnesia");
        environment["RABBITMQ_LOG_BASE"] = _directory.Combine("log");
        environment["RABBITMQ_PID_FILE"] = _directory.Combine("node.pid");
        environment["RABBITMQ_ENABLED_PLUGINS_FILE"] = _directory.Combine("enabled_plugins");
        return start;
    }
}
