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

namespace Berth.AuditLog.Tests;

/// <summary>
/// The audit log module in a minimal host (a real SQLite log database, its migrations,
/// the sinks and shippers configuration turns on), with helpers to record entries as
/// the recorder does, read one sink's checkpoint and count what the metrics say of it.
/// </summary>
public sealed class ShippingTestHost : IAsyncDisposable
{
    private readonly string _sink;
    private readonly TempDirectory _data;
    private readonly IHost _host;
    private readonly MeterListener _listener = new();
    private long _rejected;
    private long _failures;

    private ShippingTestHost(string sink, TempDirectory data, IHost host)
    {
        _sink = sink;
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
                if (tag.Key != "sink" || !Equals(tag.Value, _sink)) continue;
                if (instrument.Name == "berth.auditlog.sink.rejected") Interlocked.Add(ref _rejected, value);
                else Interlocked.Add(ref _failures, value);
            }
        });
        _listener.Start();
    }

    /// <summary>Entries the sink refused for good (berth.auditlog.sink.rejected).</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    /// <summary>Shipping attempts that failed or were only partly accepted.</summary>
    public long ShipFailures => Interlocked.Read(ref _failures);

    public AuditLogDb Db => _host.Services.GetRequiredService<AuditLogDb>();

    public IServiceProvider Services => _host.Services;

    /// <summary>Starts the module with <paramref name="settings"/> (the sink's "AuditLog:…" keys) on a fresh data directory.</summary>
    public static async Task<ShippingTestHost> StartAsync(string sink, IReadOnlyDictionary<string, string?> settings)
    {
        var data = new TempDirectory($"berth-{sink}");
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AuditLog:DataDirectory"] = data.Path,
            ["AuditLog:RetentionDays"] = "0",
        });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddAuditLog();
        var host = builder.Build();
        await host.StartAsync();
        return new ShippingTestHost(sink, data, host);
    }

    /// <summary>Records entries as one write (ids in order), as the recorder does, and wakes the shippers.</summary>
    public async Task RecordAsync(IReadOnlyList<AuditEntry> entries)
    {
        await Db.WriteAsync(async db =>
        {
            await AuditRecorder.AppendAsync(db, entries, CancellationToken.None);
            await db.SaveChangesAsync();
        }, CancellationToken.None);
        _host.Services.GetRequiredService<ShippingSignal>().Wake();
    }

    public async Task<long> CheckpointAsync()
    {
        await using var db = Db.Open();
        return await db.Checkpoints.Where(c => c.Sink == _sink).Select(c => (long?)c.LastShippedId).FirstOrDefaultAsync() ?? 0;
    }

    public async Task<List<AuditEntry>> EntriesAsync()
    {
        await using var db = Db.Open();
        // The whole log, pulls from their own table included, in id order.
        return await AuditEntryRead.NextAsync(db, 0, int.MaxValue, CancellationToken.None);
    }

    /// <summary>Waits until the sink's checkpoint reaches <paramref name="id"/>; fails the test after <paramref name="timeout"/>.</summary>
    public async Task WaitForCheckpointAsync(long id, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        long checkpoint;
        while ((checkpoint = await CheckpointAsync()) < id)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the {_sink} checkpoint is at {checkpoint} after {timeout}, expected {id}");
            await Task.Delay(25);
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
