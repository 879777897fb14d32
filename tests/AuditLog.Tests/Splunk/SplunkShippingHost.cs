using Berth.AuditLog.Data;

namespace Berth.AuditLog.Tests.Splunk;

/// <summary>
/// The audit log shipping to Splunk (a <see cref="ShippingTestHost"/> with the Splunk
/// sink configured), recording entries of one kind at a time.
/// </summary>
public sealed class SplunkShippingHost(ShippingTestHost host) : IAsyncDisposable
{
    /// <summary>Entries the sink answered as rejected for good.</summary>
    public long Rejected => host.Rejected;

    /// <summary>Shipping attempts that failed or were only partly accepted.</summary>
    public long ShipFailures => host.ShipFailures;

    /// <summary>Starts a host shipping to <paramref name="target"/>; <paramref name="settings"/> adds to or overrides its configuration.</summary>
    public static async Task<SplunkShippingHost> StartAsync(SplunkHecTarget target, TimeSpan? requestTimeout = null, TimeSpan? ackTimeout = null, string? token = null,
        IReadOnlyDictionary<string, string?>? settings = null) =>
        new(await ShippingTestHost.StartAsync("splunk", new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>())
        {
            ["AuditLog:ShippingBatchSize"] = "10",
            ["AuditLog:ShippingMaxBackoff"] = "00:00:00.500",
            ["AuditLog:Splunk:Url"] = target.Url,
            ["AuditLog:Splunk:Token"] = token ?? target.Token,
            ["AuditLog:Splunk:Index"] = target.Index,
            ["AuditLog:Splunk:Host"] = target.Host,
            ["AuditLog:Splunk:UseAcks"] = target.UseAcks ? "true" : "false",
            ["AuditLog:Splunk:RequestTimeout"] = (requestTimeout ?? TimeSpan.FromSeconds(5)).ToString(),
            ["AuditLog:Splunk:AckTimeout"] = (ackTimeout ?? TimeSpan.FromSeconds(10)).ToString(),
        }));

    /// <summary>Records <paramref name="count"/> entries as one write, as the recorder does, and wakes the shipper.</summary>
    public async Task<List<AuditEntry>> RecordAsync(int count, string kind = "push_repo")
    {
        var now = host.Db.Now();
        List<AuditEntry> entries = [.. Enumerable.Range(0, count).Select(i => new AuditEntry
        {
            EntryId = Guid.NewGuid(),
            Kind = kind,
            Namespace = "acme",
            Repository = "acme/app",
            Performer = "alice",
            PerformerKind = "user",
            Address = "10.0.0.7",
            UserAgent = "docker/27.0",
            RequestId = Guid.NewGuid().ToString("N"),
            OccurredAt = now,
            Metadata = $$"""{"tag":"v{{i}}","digest":"sha256:{{new string('a', 64)}}"}""",
            SourceEvent = "test",
        })];
        await host.RecordAsync(entries);
        return entries;
    }

    public Task<long> CheckpointAsync() => host.CheckpointAsync();

    public Task<List<AuditEntry>> EntriesAsync() => host.EntriesAsync();

    /// <summary>Waits until the sink's checkpoint reaches <paramref name="id"/>; fails the test after <paramref name="timeout"/>.</summary>
    public Task WaitForCheckpointAsync(long id, TimeSpan timeout) => host.WaitForCheckpointAsync(id, timeout);

    public ValueTask DisposeAsync() => host.DisposeAsync();
}
