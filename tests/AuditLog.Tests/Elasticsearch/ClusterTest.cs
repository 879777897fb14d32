namespace Berth.AuditLog.Tests.Elasticsearch;

/// <summary>A test class with its own cluster (<see cref="ISearchCluster"/>) and index prefix, cleaned up after each test.</summary>
public abstract class ClusterTest : IAsyncLifetime
{
    protected static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    protected string Prefix { get; } = $"berth-audit-t{Guid.NewGuid().ToString("N")[..10]}";

    protected ISearchCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await ISearchCluster.StartAsync();

    public async Task DisposeAsync()
    {
        await Cluster.CleanUpAsync(Prefix);
        await Cluster.DisposeAsync();
    }
}
