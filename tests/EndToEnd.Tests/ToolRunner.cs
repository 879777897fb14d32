using System.Diagnostics;
using Berth.TestSupport;

namespace Berth.EndToEnd.Tests;

/// <summary>
/// Runs real container clients (skopeo, podman, buildah, umoci) with a private
/// storage, configuration and registries file, so tests never touch the
/// machine's own images and never look anything up outside loopback.
/// </summary>
public sealed class ToolRunner : IDisposable
{
    private readonly TempDirectory _root = new("berth-tools");

    public ToolRunner()
    {
        File.WriteAllText(_root.Combine("storage.conf"), $"""
            [storage]
            driver = "vfs"
            runroot = "{_root.Combine("run")}"
            graphroot = "{_root.Combine("graph")}"
            """);
        File.WriteAllText(_root.Combine("containers.conf"), """
            [engine]
            events_logger = "file"
            cgroup_manager = "cgroupfs"
            """);
        File.WriteAllText(_root.Combine("registries.conf"), "unqualified-search-registries = []\n");
        File.WriteAllText(_root.Combine("auth.json"), "{}");
    }

    public string WorkDirectory => _root.Path;

    public string Combine(params string[] parts) => _root.Combine(parts);

    /// <summary>Runs a tool and returns its standard output; a non-zero exit fails the test with everything it printed.</summary>
    public async Task<string> RunAsync(string tool, IEnumerable<string> arguments, string? workingDirectory = null, TimeSpan? timeout = null)
    {
        var list = arguments.ToList();
        var (exitCode, output, errors) = await TryRunAsync(tool, list, workingDirectory, timeout);
        if (exitCode != 0)
            Assert.Fail($"{tool} {string.Join(' ', list)} exited {exitCode}:\n{output}\n{errors}");
        return output;
    }

    /// <summary>Runs a tool that may fail (a refusal the test expects): its exit code, output and errors.</summary>
    public async Task<(int ExitCode, string Output, string Errors)> TryRunAsync(string tool, IEnumerable<string> arguments, string? workingDirectory = null, TimeSpan? timeout = null)
    {
        var path = RequiredServer.Tool(tool);
        var start = new ProcessStartInfo(path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? _root.Path,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        start.Environment["CONTAINERS_STORAGE_CONF"] = _root.Combine("storage.conf");
        start.Environment["CONTAINERS_CONF"] = _root.Combine("containers.conf");
        start.Environment["CONTAINERS_REGISTRIES_CONF"] = _root.Combine("registries.conf");
        // Logins go to a file of this run, never to the machine's shared auth file.
        start.Environment["REGISTRY_AUTH_FILE"] = _root.Combine("auth.json");
        start.Environment["TMPDIR"] = Directory.CreateDirectory(_root.Combine("tmp")).FullName;

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{tool} {string.Join(' ', start.ArgumentList)} did not finish in time");
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    public Task<string> SkopeoAsync(params string[] arguments) => RunAsync("skopeo", arguments);

    public Task<string> PodmanAsync(params string[] arguments) => RunAsync("podman", arguments);

    public Task<string> BuildahAsync(string workingDirectory, params string[] arguments) => RunAsync("buildah", arguments, workingDirectory);

    public void Dispose() => _root.Dispose();
}
