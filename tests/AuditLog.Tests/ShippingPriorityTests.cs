using System.Collections.Concurrent;
using Berth.AuditLog.Data;
using Berth.AuditLog.Shipping;
using Berth.AuditLog.Tests.Elasticsearch;
using Berth.Data.Background;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.AuditLog.Tests;

public sealed class ShippingPriorityTests
{
    private const string SinkName = "priority-test";

    [Fact]
    public async Task Fresh_entries_ship_at_low_priority_and_once_a_backlog_is_older_than_the_limit_at_normal_priority()
    {
        await using var log = await ShippingTestHost.StartAsync(SinkName, new Dictionary<string, string?> { ["AuditLog:ShippingBatchSize"] = "10" });
        var sink = new PriorityRecordingSink();
        var shipper = ActivatorUtilities.CreateInstance<SinkShipper>(log.Services, sink);
        await shipper.StartAsync(CancellationToken.None);
        try
        {
            await log.RecordAsync(Entries(25, DateTime.UtcNow));
            await log.WaitForCheckpointAsync(25, TimeSpan.FromSeconds(30));
            var fresh = sink.Batches;
            Assert.Equal(3, fresh.Count);
            Assert.All(fresh, b => Assert.True(b.AtLowPriority));

            // The first batch of the backlog shows how old it is: the batches after it no longer wait for idle CPU.
            await log.RecordAsync(Entries(25, DateTime.UtcNow - SinkShipper.IdlePriorityLagLimit - TimeSpan.FromMinutes(1)));
            await log.WaitForCheckpointAsync(50, TimeSpan.FromSeconds(30));
            var backlog = sink.Batches.Skip(fresh.Count).ToList();
            Assert.Equal([10, 10, 5], backlog.Select(b => b.Count));
            Assert.Equal([true, false, false], backlog.Select(b => b.AtLowPriority));
        }
        finally
        {
            await shipper.StopAsync(CancellationToken.None);
            shipper.Dispose();
        }
    }

    private static List<AuditEntry> Entries(int count, DateTime occurredAt) =>
        [.. Enumerable.Range(0, count).Select(_ => ElasticsearchShipping.Entry("pull_repo", "team", occurredAt, "team/app"))];

    /// <summary>Takes every batch, noting its size and whether it came from a low-priority thread.</summary>
    private sealed class PriorityRecordingSink : IAuditSink
    {
        private readonly ConcurrentQueue<(int Count, bool AtLowPriority)> _batches = new();

        public string Name => SinkName;

        public List<(int Count, bool AtLowPriority)> Batches => [.. _batches];

        public Task PrepareAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task<int> ShipAsync(IReadOnlyList<AuditEntry> batch, CancellationToken cancellationToken)
        {
            _batches.Enqueue((batch.Count, LowPriorityScheduler.OnLowPriorityThread));
            return Task.FromResult(batch.Count);
        }
    }
}
