using Berth.AuditLog.Data;
using Berth.AuditLog.Recording;
using Berth.Contracts;
using Berth.Contracts.Registry;
using Berth.Data.Outbox;
using Berth.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.AuditLog.Tests;

/// <summary>
/// Batches of pulls recorded through the many-rows-a-statement insert, on SQLite and
/// on PostgreSQL: every field reads back through EF as it was written, ids follow the
/// batch's order, and a pull that arrives again inside another batch is not recorded twice.
/// </summary>
public sealed class AuditEntryInsertTests
{
    [Fact]
    public async Task Pull_batches_read_back_whole_in_order_and_a_repeated_pull_is_recorded_once_on_sqlite()
    {
        using var data = new TempDirectory("berth-auditlog-insert");
        await using var server = await BerthHosts.StartSecuredServerAsync(data.Path);
        await RecordAndCheckAsync(server);
    }

    [Fact]
    public async Task The_log_checkpoints_its_sqlite_wal_ten_times_less_often_than_the_registry_database()
    {
        using var data = new TempDirectory("berth-auditlog-checkpoint");
        await using var server = await BerthHosts.StartSecuredServerAsync(data.Path);

        await using var log = server.App.Services.GetRequiredService<AuditLogDb>().Open();
        await using var registry = server.App.Services.GetRequiredService<Berth.Registry.Data.RegistryDb>().Open();

        Assert.Equal(10_000, await AutocheckpointAsync(log));
        Assert.Equal(1_000, await AutocheckpointAsync(registry));
    }

    [Fact]
    public async Task Rows_inserted_directly_are_stored_on_sqlite_exactly_as_ef_stores_them()
    {
        using var data = new TempDirectory("berth-auditlog-storage");
        await using var server = await BerthHosts.StartSecuredServerAsync(data.Path);
        var auditLogDb = server.App.Services.GetRequiredService<AuditLogDb>();
        // Upper-case hex letters in the id, ticks that need all seven fraction digits, every optional field set.
        var viaEf = Sample(Guid.Parse("0190a3b4-c5d6-7e8f-9a0b-1c2d3e4f5a6b"), new DateTime(2026, 11, 30, 1, 2, 3, DateTimeKind.Utc).AddTicks(1234567));
        var direct = Sample(Guid.Parse("0190a3b4-c5d6-7e8f-9a0b-1c2d3e4f5a6c"), viaEf.OccurredAt);
        var sparse = Sample(Guid.Parse("0190a3b4-c5d6-7e8f-9a0b-1c2d3e4f5a6d"), new DateTime(2026, 11, 30, 1, 2, 3, DateTimeKind.Utc));
        sparse.Repository = sparse.Address = sparse.UserAgent = sparse.RequestId = null;
        var sparseViaEf = Sample(Guid.Parse("0190a3b4-c5d6-7e8f-9a0b-1c2d3e4f5a6e"), sparse.OccurredAt);
        sparseViaEf.Repository = sparseViaEf.Address = sparseViaEf.UserAgent = sparseViaEf.RequestId = null;
        await using (var db = auditLogDb.Open())
        {
            db.Entries.AddRange(viaEf, sparseViaEf);
            await db.SaveChangesAsync();
        }
        await auditLogDb.WriteAsync(db => Recording.AuditRecorder.AppendAsync(db, [direct, sparse], CancellationToken.None), CancellationToken.None);

        Assert.Equal(await StoredAsync(auditLogDb, viaEf), await StoredAsync(auditLogDb, direct));
        Assert.Equal(await StoredAsync(auditLogDb, sparseViaEf), await StoredAsync(auditLogDb, sparse));
        await using var read = auditLogDb.Open();
        Assert.Equal(direct.EntryId, (await read.Entries.SingleAsync(e => e.EntryId == direct.EntryId)).EntryId); // EF's own comparison finds it
    }

    private static AuditEntry Sample(Guid entryId, DateTime occurredAt) => new()
    {
        EntryId = entryId, Kind = "pull_repo", Namespace = "storage", Repository = "storage/app", Performer = "someone", PerformerKind = "user",
        Address = "2001:db8::7", UserAgent = "podman/5.0 (ünïcode)", RequestId = "0af7651916cd43dd8448eb211c80319c", OccurredAt = occurredAt,
        Metadata = """{"digest":"sha256:00"}""", SourceEvent = "Berth.Contracts.Registry.ManifestPulled",
    };

    /// <summary>Every column of the entry's row as SQLite holds it (its storage class and its text), the id and entry id made comparable.</summary>
    private static async Task<List<string>> StoredAsync(AuditLogDb auditLogDb, AuditEntry entry)
    {
        await using var db = auditLogDb.Open();
        await db.Database.OpenConnectionAsync();
        var columns = db.Model.FindEntityType(typeof(AuditEntry))!.GetProperties().Select(p => p.GetColumnName()).ToList();
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = "SELECT " + string.Join(", ", columns.Select(c => $"typeof(\"{c}\") || ':' || quote(\"{c}\")")) + " FROM audit_entries WHERE \"EntryId\" = $id";
        var parameter = command.CreateParameter();
        parameter.ParameterName = "$id";
        parameter.Value = entry.EntryId.ToString().ToUpperInvariant();
        command.Parameters.Add(parameter);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), $"no row stored with the entry id {entry.EntryId} in upper case");
        return [.. columns.Select((c, i) => c is "Id" ? "id" : reader.GetString(i).Replace(entry.EntryId.ToString().ToUpperInvariant(), "ENTRY-ID"))];
    }

    private static async Task<long> AutocheckpointAsync(DbContext db)
    {
        await db.Database.OpenConnectionAsync();
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = "PRAGMA wal_autocheckpoint;";
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [SkippableFact]
    public async Task Pull_batches_read_back_whole_in_order_and_a_repeated_pull_is_recorded_once_on_postgres()
    {
        await using var onPostgres = await AuditLogOnPostgres.StartAsync("berth-auditlog-insert-pg");
        await RecordAndCheckAsync(onPostgres.Server);
    }

    private static async Task RecordAndCheckAsync(RunningApp server)
    {
        var bus = server.App.Services.GetRequiredService<InProcessEventBus>();
        // Whole microseconds: what PostgreSQL keeps.
        var occurred = new DateTimeOffset(2026, 3, 4, 5, 6, 7, TimeSpan.Zero).AddTicks(1234560);
        // More than one statement's worth, with and without the optional fields.
        var first = Enumerable.Range(0, 450).Select(i => Pull(i, occurred.AddMilliseconds(i))).ToList();
        await bus.PublishAsync(new ManifestsPulled(first) { Actor = EventActor.System }, CancellationToken.None);
        // Another batch (another event) that carries a hundred of the same pulls again, between new ones.
        var again = first.Skip(100).Take(100).ToList();
        var fresh = Enumerable.Range(450, 50).Select(i => Pull(i, occurred.AddMilliseconds(i))).ToList();
        await bus.PublishAsync(new ManifestsPulled([.. fresh.Take(25), .. again, .. fresh.Skip(25)]) { Actor = EventActor.System }, CancellationToken.None);

        await using var db = server.App.Services.GetRequiredService<AuditLogDb>().Open();
        // Pulls are kept in their own compact table: read the log as shipping and searches do.
        var recorded = (await AuditEntryRead.NextAsync(db, 0, int.MaxValue, CancellationToken.None))
            .Where(e => e.Kind == "pull_repo" && e.Repository!.StartsWith("inserts/")).ToList();
        Assert.Empty(await db.Entries.Where(e => e.Kind == "pull_repo").ToListAsync());
        List<ManifestPulled> expected = [.. first, .. fresh];
        Assert.Equal(expected.Select(p => p.EventId), recorded.Select(e => e.EntryId));
        var mapper = new EventMapper(_ => true);
        foreach (var (pull, entry) in expected.Zip(recorded))
        {
            // Field for field what the pull is as an entry of its own.
            var asEntry = Assert.Single(mapper.Map(pull));
            Assert.Equal(("inserts", pull.Repository), (entry.Namespace, entry.Repository));
            Assert.Equal((pull.Actor.Name, pull.Actor.Kind, pull.Actor.Address, pull.Actor.UserAgent, pull.Actor.RequestId),
                (entry.Performer, entry.PerformerKind, entry.Address, entry.UserAgent, entry.RequestId));
            Assert.Equal((asEntry.Kind, asEntry.Namespace, asEntry.Repository, asEntry.Metadata, asEntry.SourceEvent),
                (entry.Kind, entry.Namespace, entry.Repository, entry.Metadata, entry.SourceEvent));
            Assert.Equal(pull.OccurredAt.UtcDateTime, entry.OccurredAt);
            Assert.Equal(typeof(ManifestPulled).FullName, entry.SourceEvent);
            Assert.Contains(pull.Digest, entry.Metadata);
        }
    }

    private static ManifestPulled Pull(int i, DateTimeOffset at) =>
        new($"inserts/app{i % 7}", "sha256:" + i.ToString("x64"), "application/vnd.oci.image.manifest.v1+json", i % 3 == 0 ? null : $"v{i}")
        {
            OccurredAt = at,
            Actor = i % 2 == 0
                ? new EventActor($"user{i % 5}", "user", "192.0.2.7", $"podman/{i}") { RequestId = $"req-{i}" }
                : new EventActor("anonymous", "anonymous", null, null),
        };
}
