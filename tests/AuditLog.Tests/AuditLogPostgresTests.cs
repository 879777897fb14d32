using Berth.AuditLog.Data;
using Berth.Contracts;
using Berth.Contracts.Registry;
using Berth.Data.Outbox;
using Berth.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.AuditLog.Tests;

/// <summary>
/// The audit log on a real PostgreSQL database: concurrent deliveries and
/// redeliveries racing each other leave exactly one entry per event, with ids
/// that order them.
/// </summary>
public sealed class AuditLogPostgresTests
{
    [SkippableFact]
    public async Task Racing_deliveries_and_redeliveries_record_each_event_once()
    {
        await using var onPostgres = await AuditLogOnPostgres.StartAsync("berth-auditlog-pg");
        var server = onPostgres.Server;
        var bus = server.App.Services.GetRequiredService<InProcessEventBus>();
        var actor = new EventActor("racer", "user", "192.0.2.1", "test");
        var events = Enumerable.Range(0, 200).Select(i => new TagCreated($"race/app{i % 5}", $"t{i}", "sha256:" + new string('e', 64)) { Actor = actor }).ToList();

        // Every event delivered twice, sixteen deliveries at a time (a consumer's usual concurrency).
        await Parallel.ForEachAsync(events.Concat(events).OrderBy(_ => Random.Shared.Next()), new ParallelOptions { MaxDegreeOfParallelism = 16 },
            async (e, cancellationToken) => await bus.PublishAsync(e, cancellationToken));

        await using var db = server.App.Services.GetRequiredService<AuditLogDb>().Open();
        var recorded = await db.Entries.Where(e => e.Performer == "racer").OrderBy(e => e.Id).ToListAsync();
        Assert.Equal(200, recorded.Count);
        Assert.Equal(events.Select(e => e.EventId).ToHashSet(), recorded.Select(e => e.EntryId).ToHashSet());
        Assert.All(recorded, e => Assert.Equal(("race", "create_tag"), (e.Namespace, e.Kind)));
    }
}
