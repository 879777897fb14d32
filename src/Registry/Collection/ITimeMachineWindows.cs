namespace Berth.Registry.Collection;

/// <summary>
/// Each namespace's time-machine window: how long a deleted or moved tag can be
/// restored (and keeps its image). The collector module owns the policy; without it
/// every namespace gets <see cref="FixedTimeMachineWindows"/>.
/// </summary>
public interface ITimeMachineWindows
{
    TimeSpan WindowOf(string @namespace);
}

public sealed class FixedTimeMachineWindows(TimeSpan window) : ITimeMachineWindows
{
    /// <summary>Quay's default.</summary>
    public static readonly TimeSpan Default = TimeSpan.FromDays(14);

    public TimeSpan WindowOf(string @namespace) => window;
}
