using System.Collections.Concurrent;
using System.Diagnostics;
using Berth.TestSupport;

namespace Berth.EndToEnd.Tests;

/// <summary>
/// The real Server executable as its own process (an open registry with its data
/// in a given directory): for crashes that must be real, and for consumers that
/// must sit in another process than the publisher.
/// </summary>
public sealed class ServerProcess : IDisposable
{
    private ServerProcess(Process process, int port)
    {
        Process = process;
        BaseAddress = new Uri($"http://127.0.0.1:{port}");
    }

    public Process Process { get; }

    /// <summary>The last lines the process printed, for failure messages.</summary>
    public ConcurrentQueue<string> Output { get; } = new();

    public string Tail(int lines = 60) => string.Join("\n", Output.TakeLast(lines));

    public Uri BaseAddress { get; }

    public HttpClient CreateClient() => new() { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>
    /// Starts the Server and waits (up to 60 s) until it is healthy. Later
    /// arguments override the defaults (an open registry with everything in
    /// <paramref name="dataDirectory"/>).
    /// </summary>
    public static async Task<ServerProcess> StartAsync(string dataDirectory, params string[] extraArgs)
    {
        var port = LoopbackPorts.Free();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[]
                 {
                     Path.Combine(AppContext.BaseDirectory, "Berth.Server.dll"), "--urls", $"http://127.0.0.1:{port}",
                     "--Registry:DataDirectory", dataDirectory, "--Auth:DataDirectory", dataDirectory, "--AuditLog:DataDirectory", dataDirectory,
                     "--Collector:DataDirectory", dataDirectory, "--Registry:Authentication", "none", "--Logging:LogLevel:Default", "Warning",
                 }.Concat(extraArgs))
            start.ArgumentList.Add(argument);
        var process = Process.Start(start)!;
        var server = new ServerProcess(process, port);
        process.OutputDataReceived += (_, e) => server.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => server.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var http = server.CreateClient();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(process.HasExited, "the server process exited at start");
            try
            {
                using var response = await http.GetAsync("/health");
                if (response.IsSuccessStatusCode) return server;
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(100);
        }
        server.Dispose();
        Assert.Fail("the server process did not answer within 60 s");
        return server;
    }

    private void Keep(string? line)
    {
        if (line is null) return;
        Output.Enqueue(line);
        while (Output.Count > 2000) Output.TryDequeue(out _);
    }

    public void Dispose()
    {
        if (!Process.HasExited) Process.Kill(entireProcessTree: true);
        Process.Dispose();
    }
}
