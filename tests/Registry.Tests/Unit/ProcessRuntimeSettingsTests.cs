using System.Text.Json.Nodes;

namespace Berth.Registry.Tests.Unit;

/// <summary>
/// Berth's processes share a few cores with each other and with their database, broker
/// and cache: each executable's runtime configuration must ask for workstation GC and
/// for idle thread-pool workers that sleep without spinning (src/ProcessRuntime.props).
/// The executables' runtimeconfig.json files are copied beside the test assembly.
/// </summary>
public sealed class ProcessRuntimeSettingsTests
{
    [Theory]
    [InlineData("Berth.Server")]
    [InlineData("Berth.Gateway")]
    public void The_executable_runs_workstation_gc_without_thread_pool_spinning(string executable)
    {
        var path = Path.Combine(AppContext.BaseDirectory, executable + ".runtimeconfig.json");
        Assert.True(File.Exists(path), $"{path} is missing");
        var properties = JsonNode.Parse(File.ReadAllText(path))!["runtimeOptions"]!["configProperties"]!;

        Assert.False(properties["System.GC.Server"]!.GetValue<bool>());
        Assert.True(properties["System.GC.Concurrent"]!.GetValue<bool>());
        Assert.Equal("0", properties["System.Threading.ThreadPool.UnfairSemaphoreSpinLimit"]!.ToString());
    }
}
