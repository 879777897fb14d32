using Berth.Registry.Collection;
using Microsoft.Extensions.Options;

namespace Berth.Collector.Running;

/// <summary>The time-machine windows the collector's configuration gives: a namespace's own, else the default.</summary>
public sealed class ConfiguredTimeMachineWindows(IOptions<CollectorOptions> options) : ITimeMachineWindows
{
    public TimeSpan WindowOf(string @namespace) =>
        options.Value.TimeMachineWindows.TryGetValue(@namespace, out var window) ? window : options.Value.DefaultTimeMachineWindow;
}
