using System.Diagnostics.Metrics;
using Berth.AuditLog.Data;
using Berth.AuditLog.Recording;
using Berth.AuditLog.Shipping;
using Berth.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Berth.AuditLog.Tests.Splunk;

/// <summary>
/// The audit log module in a minimal host (a real SQLite log database, its migrations,
/// the Splunk sink and its shipper as configuration turns them on), with helpers to
/// record entries, read the sink's checkpoint and count what the metrics say.
/// </summary>
public sealed class SplunkShippingHost : IAsyncDisposable
{
    private readonly TempDirectory _data;
    private readonly IHost _host;
    private readonly MeterListener _listener = new();
    private long _rejected;
    private long _failures;

    private SplunkShippingHost(TempDirectory data, IHost host)
    {
        _data = data;
        _host = host;
        var meters = host.Services.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Scope == meters && instrument.Name is "berth.auditlog.sink.rejected" or "berth.auditlog.sink.failures")
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag is not { Key: "sink", Value: "splunk" }) continue;
                if (instrument.Name == "berth.auditlog.sink.rejected") Interlocked.Add(ref _rejected, value);
                else Interlocked.Add(ref _failures, value);
            }
        });
        _listener.Start();
    }

    /// <summary>Entries the sink answered as rejected for good.</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    /// <summary>Shipping attempts that failed or were only partly accepted.</summary>
    public long ShipFailures => Interlocked.Read(ref _failures);

    private AuditLogDb Db => _host.Services.GetRequiredService<AuditLogDb>();

    public static async Task<SplunkShippingHost> StartAsync(SplunkHecTarget target, TimeSpan? requestTimeout = null, TimeSpan? ackTimeout = null, string? token = null)
    {
        var data = new TempDirectory("berth-splunk");
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AuditLog:DataDirectory"] = data.Path,
            ["AuditLog:RetentionDays"] = "0",
            ["AuditLog:ShippingBatchSize"] = "10",
            ["AuditLog:ShippingMaxBackoff"] = "00:00:00.500",
            ["AuditLog:Splunk:Url"] = target.Url,
            ["AuditLog:Splunk:Token"] = token ?? target.Token,
            ["AuditLog:Splunk:Index"] = target.Index,
            ["AuditLog:Splunk:Host"] = target.Host,
            ["AuditLog:Splunk:UseAcks"] = target.UseAcks ? "true" : "false",
            ["AuditLog:Splunk:RequestTimeout"] = (requestTimeout ?? TimeSpan.FromSeconds(5)).ToString(),
            ["AuditLog:Splunk:AckTimeout"] = (ackTimeout ?? TimeSpan.FromSeconds(10)).ToString(),
        });
        builder.AddAuditLog();
        var host = builder.Build();
        await host.StartAsync();
        return new SplunkShippingHost(data, host);
    }

    /// <summary>Records <paramref name="count"/> entries as one write, as the recorder does, and wakes the shipper.</summary>
    public async Task<List<AuditEntry>> RecordAsync(int count, string kind = "push_repo")
    {
        var now = Db.Now();
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
        await Db.WriteAsync(async db =>
        {
            await AuditRecorder.AppendAsync(db, entries, CancellationToken.None);
            await db.SaveChangesAsync();
        }, CancellationToken.None);
        _host.Services.GetRequiredService<ShippingSignal>().Wake();
        return entries;
    }

    public async Task<long> CheckpointAsync()
    {
        await using var db = Db.Open();
        return await db.Checkpoints.Where(c => c.Sink == "splunk").Select(c => (long?)c.LastShippedId).FirstOrDefaultAsync() ?? 0;
    }

    public async Task<List<AuditEntry>> EntriesAsync()
    {
        await using var db = Db.Open();
        return await db.Entries.AsNoTracking().OrderBy(e => e.Id).ToListAsync();
    }

    /// <summary>Waits until the sink's checkpoint reaches <paramref name="id"/>; fails the test after <paramref name="timeout"/>.</summary>
    public async Task WaitForCheckpointAsync(long id, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        long checkpoint;
        while ((checkpoint = await CheckpointAsync()) < id)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the splunk checkpoint is at {checkpoint} after {timeout}, expected {id}");
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        await _host.StopAsync();
        _host.Dispose();
        _data.Dispose();
    }
}
