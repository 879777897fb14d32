using System.IO.Compression;
using System.Text.Json;
using Berth.AuditLog.Data;
using Berth.AuditLog.Recording;
using Berth.AuditLog.Retention;
using Berth.AuditLog.Search;
using Berth.Contracts;
using Berth.Contracts.Registry;
using Berth.Data.Outbox;
using Berth.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Berth.AuditLog.Tests;

/// <summary>
/// Pulls are kept in a compact table of their own but read as entries: they share one id
/// order with every other entry, each search filter and page finds them exactly as it
/// finds entries, aggregates count them, and retention archives and removes them.
/// </summary>
public sealed class PullTableTests : IAsyncLifetime
{
    /// <summary>Long ago, in whole microseconds (what PostgreSQL keeps of an entry's time): only this test's events are that old.</summary>
    private static readonly DateTimeOffset Start = new DateTimeOffset(2026, 3, 4, 5, 6, 7, TimeSpan.Zero).AddTicks(1234560);

    private static readonly EventActor Alice = new("alice", "user", "192.0.2.7", "podman/5.0") { RequestId = "req-alice" };
    private static readonly EventActor Robot = new("mix+bot", "robot", "192.0.2.8", "skopeo/1.13");
    private static readonly EventActor Anonymous = new("anonymous", "anonymous", null, null);

    private readonly TempDirectory _data = new("berth-auditlog-pulls");
    private RunningApp _server = null!;

    public async Task InitializeAsync() => _server = await BerthHosts.StartSecuredServerAsync(_data.Path, "--AuditLog:RetentionDays", "30");

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _data.Dispose();
    }

    [Fact]
    public Task Entries_and_pulls_share_one_id_order_and_every_page_and_filter_reads_both_on_sqlite() => RecordAndSearchAsync(_server);

    [SkippableFact]
    public async Task Entries_and_pulls_share_one_id_order_and_every_page_and_filter_reads_both_on_postgres()
    {
        await using var onPostgres = await AuditLogOnPostgres.StartAsync("berth-auditlog-pulls-pg");
        await RecordAndSearchAsync(onPostgres.Server);
    }

    private static async Task RecordAndSearchAsync(RunningApp server)
    {
        var bus = server.App.Services.GetRequiredService<InProcessEventBus>();
        var at = 0;
        DateTimeOffset Next() => Start.AddSeconds(at++);
        IntegrationEvent Tag(string tag) => new TagCreated("mix/app", tag, "sha256:" + new string('a', 64)) { Actor = Alice, OccurredAt = Next() };
        List<ManifestPulled> Pulls(int count) => [.. Enumerable.Range(0, count).Select(i => Pull(i % 2 == 0 ? "mix/app" : "mix/other", (i % 3) switch { 0 => Alice, 1 => Robot, _ => Anonymous }, Next(), i % 4 == 0 ? null : $"v{i}"))];
        var first = Pulls(10);
        var second = Pulls(10);
        IntegrationEvent[] recorded =
        [
            Tag("t1"), new ManifestsPulled(first) { Actor = EventActor.System }, Tag("t2"),
            new ManifestsPulled(second) { Actor = EventActor.System }, new RepositoryCreated("mix/new") { Actor = Robot, OccurredAt = Next() },
        ];
        foreach (var e in recorded) await bus.PublishAsync(e, CancellationToken.None);
        Guid[] expected = [recorded[0].EventId, .. first.Select(p => p.EventId), recorded[2].EventId, .. second.Select(p => p.EventId), recorded[4].EventId];

        var auditLogDb = server.App.Services.GetRequiredService<AuditLogDb>();
        await using (var db = auditLogDb.Open())
        {
            Assert.Equal(20, await db.Pulls.CountAsync(p => p.OccurredTicks < Start.AddDays(1).UtcTicks));
            Assert.Equal(0, await db.Entries.CountAsync(e => e.Kind == AuditKinds.PullRepo));
            // The second batch named the first's texts again: no id was spent on them.
            Assert.Equal(await db.Names.CountAsync(), await db.Names.MaxAsync(n => n.Id));
        }

        // Recording order is id order across both tables; shipping reads both, in pages, in that order.
        var log = await ShippedInPagesAsync(auditLogDb, 3);
        var ours = log.Where(e => expected.Contains(e.EntryId)).ToList();
        Assert.Equal(expected, ours.Select(e => e.EntryId));
        Assert.True(log.Zip(log.Skip(1)).All(pair => pair.First.Id < pair.Second.Id), "the log's ids do not rise");
        var mapper = new EventMapper(_ => true);
        foreach (var pull in first.Concat(second))
            AssertSameEntry(Assert.Single(mapper.Map(pull)), Assert.Single(ours, e => e.EntryId == pull.EventId));
        // Sinks read pulls with the provider's own statement where there is one; EF reads them the same.
        await using (var db = auditLogDb.Open())
        {
            var forSinks = await PullEntryRead.AfterAsync(db, 0, long.MaxValue, 1000, CancellationToken.None);
            var throughEf = await PullEntryRead.ToEntriesAsync(db, db.Pulls.Where(p => p.Id > 0).OrderBy(p => p.Id).Take(1000), CancellationToken.None);
            Assert.Equal(20, forSinks.Count(e => expected.Contains(e.EntryId)));
            Assert.Equal(throughEf.Select(e => JsonSerializer.Serialize(e)), forSinks.Select(e => JsonSerializer.Serialize(e)));
        }

        // Every filter finds what it finds among the same entries held in memory; pages of 4 put together give the same.
        var search = new DatabaseAuditSearch(auditLogDb);
        var during = Start.AddSeconds(5).UtcDateTime;
        var until = Start.AddSeconds(17).UtcDateTime;
        AuditFilter[] filters =
        [
            Filter(@namespace: "mix"), Filter(repository: "mix/app"), Filter(performer: "alice"), Filter(performer: "mix+bot"),
            Filter(@namespace: "nobody-here"), Filter(performer: "nobody-here"),
            Filter(kinds: [AuditKinds.PullRepo]), Filter(kinds: [AuditKinds.CreateTag]), Filter(kinds: [AuditKinds.PullRepo, AuditKinds.CreateRepo]),
            Filter(since: during), Filter(until: until), Filter(@namespace: "mix", since: during, until: until, kinds: [AuditKinds.PullRepo]),
            Filter() with { PerformedBy = "mix+bot", PerformedByKind = "robot" },
            Filter() with { PerformedBy = "mix+bot", PerformedByKind = "user" },
            Filter() with { PerformedBy = "alice", PerformedByKind = null },
        ];
        foreach (var filter in filters)
        {
            var wanted = filter.Apply(ours.AsQueryable()).Select(e => e.EntryId).ToList();
            var oldestFirst = (await PagesAsync(after => search.OldestAsync(filter, after ?? 0, 4, CancellationToken.None), newestFirst: false))
                .Where(e => expected.Contains(e.EntryId)).Select(e => e.EntryId).ToList();
            var newestFirst = (await PagesAsync(before => search.NewestAsync(filter, before, 4, CancellationToken.None), newestFirst: true))
                .Where(e => expected.Contains(e.EntryId)).Select(e => e.EntryId).ToList();
            Assert.Equal(wanted, oldestFirst);
            Assert.Equal(Enumerable.Reverse(wanted), newestFirst);
        }
        // The answers compared above are not all empty, nor all everything: the robot made 6 of the pulls and the repository.
        Assert.Equal(7, filters[3].Apply(ours.AsQueryable()).Count());
        Assert.Equal(2, filters[7].Apply(ours.AsQueryable()).Count());
        Assert.Empty(filters[4].Apply(ours.AsQueryable()));
    }

    [Fact]
    public async Task Counts_per_kind_and_day_include_pulls_of_both_tables()
    {
        var day = new DateTimeOffset(2026, 2, 10, 23, 59, 58, TimeSpan.Zero);
        var bus = _server.App.Services.GetRequiredService<InProcessEventBus>();
        await bus.PublishAsync(new ManifestsPulled([.. Enumerable.Range(0, 5).Select(i => Pull("daily/app", Alice, day.AddSeconds(i), "v1"))]) { Actor = EventActor.System }, CancellationToken.None);
        await bus.PublishAsync(new TagCreated("daily/app", "v2", "sha256:" + new string('a', 64)) { Actor = Alice, OccurredAt = day.AddDays(1) }, CancellationToken.None);
        // A pull recorded as an entry, as the log did before it had a pull table.
        var db = _server.App.Services.GetRequiredService<AuditLogDb>();
        var legacy = Assert.Single(new EventMapper(_ => true).Map(Pull("daily/app", Robot, day, null)));
        await db.WriteAsync(context => AuditRecorder.AppendAsync(context, [legacy], CancellationToken.None), CancellationToken.None);

        var search = new DatabaseAuditSearch(db);
        var counts = await search.CountByKindPerDayAsync(Filter(@namespace: "daily"), CancellationToken.None);
        // Seconds 0 and 1 fall on the 10th, 2 to 4 on the 11th.
        Assert.Equal(
            [new KindCount(new DateOnly(2026, 2, 10), AuditKinds.PullRepo, 3), new KindCount(new DateOnly(2026, 2, 11), AuditKinds.CreateTag, 1),
                new KindCount(new DateOnly(2026, 2, 11), AuditKinds.PullRepo, 3)],
            counts);
        // The old-style pull is in the pages too, in its place.
        var newest = await search.NewestAsync(Filter(@namespace: "daily"), null, 10, CancellationToken.None);
        Assert.Equal(7, newest.Count);
        Assert.Equal(legacy.EntryId, newest[0].EntryId);
    }

    [Fact]
    public async Task Retention_archives_and_removes_old_pulls_and_keeps_recent_ones()
    {
        var now = DateTimeOffset.UtcNow;
        var retired = new EventActor("retired", "user", "198.51.100.9", "old-agent/1");
        var old = Enumerable.Range(0, 3).Select(i => Pull("oldpulls/app", i == 0 ? Anonymous : retired, now.AddDays(-40).AddSeconds(i), i == 1 ? null : "v1")).ToList();
        var oldEntry = Assert.Single(new EventMapper(_ => true).Map(new RepositoryCreated("oldpulls/app") { Actor = Alice, OccurredAt = now.AddDays(-41) }));
        var recent = Pull("oldpulls/app", Alice, now.AddDays(-1), "v1");
        var db = _server.App.Services.GetRequiredService<AuditLogDb>();
        await db.WriteAsync(context => AuditRecorder.AppendAsync(context, [oldEntry], [.. old, recent], CancellationToken.None), CancellationToken.None);

        var rotation = _server.App.Services.GetServices<IHostedService>().OfType<LogRotation>().Single();
        Assert.Equal(4, await rotation.RotateAsync(CancellationToken.None));

        var left = (await new DatabaseAuditSearch(db).OldestAsync(Filter(@namespace: "oldpulls"), 0, 10, CancellationToken.None)).Select(e => e.EntryId);
        Assert.Equal([recent.EventId], left);
        // The texts only the rotated pulls named went with them; those the kept pull names stayed.
        await using (var context = db.Open())
        {
            var names = await context.Names.Select(n => n.Name).ToListAsync();
            Assert.DoesNotContain("old-agent/1", names);
            Assert.DoesNotContain("198.51.100.9", names);
            Assert.DoesNotContain("retired", names);
            Assert.Contains(Alice.UserAgent, names);
        }
        var archive = Directory.GetFiles(_data.Combine("audit-archive")).Single();
        await using var gzip = new GZipStream(File.OpenRead(archive), CompressionMode.Decompress);
        using var reader = new StreamReader(gzip);
        var archived = (await reader.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        // In id order across both tables: the entry was recorded first.
        Assert.Equal([oldEntry.EntryId, .. old.Select(p => p.EventId)], archived.Select(e => e.GetProperty("entryId").GetGuid()));
        Assert.All(archived.Skip(1), e => Assert.Equal(AuditKinds.PullRepo, e.GetProperty("kind").GetString()));
        Assert.Equal("old-agent/1", archived[2].GetProperty("userAgent").GetString());
        Assert.Equal("oldpulls/app", JsonDocument.Parse(archived[2].GetProperty("metadata").GetString()!).RootElement.GetProperty("repository").GetString());
    }

    [Fact]
    public async Task Pulls_recorded_before_any_entry_take_the_first_ids_and_later_entries_follow_them()
    {
        await using var log = await StandaloneAuditLog.CreateAsync("berth-auditlog-pull-ids");
        var db = log.Db;

        var pulls = Enumerable.Range(0, 4).Select(i => Pull("first/app", Alice, Start.AddSeconds(i), null)).ToList();
        Assert.Equal(4, await log.AppendAsync([], pulls));
        var entry = Assert.Single(new EventMapper(_ => true).Map(new RepositoryCreated("first/app") { Actor = Alice }));
        Assert.Equal(1, await log.AppendAsync([entry], []));
        // The same pulls again (another batch carrying them) add nothing; a new one comes after the entry.
        var later = Pull("first/app", Robot, Start.AddSeconds(9), "v9");
        Assert.Equal(1, await log.AppendAsync([], [.. pulls, later]));

        var ids = await db.Pulls.OrderBy(p => p.Id).Select(p => new { p.EntryId, p.Id }).ToListAsync();
        Assert.Equal([1L, 2, 3, 4], ids.Take(4).Select(p => p.Id));
        Assert.Equal(5, entry.Id);
        // Ids the repeated pulls reserved stay unused: the new pull is numbered after them.
        Assert.Equal(later.EventId, ids[^1].EntryId);
        Assert.True(ids[^1].Id > entry.Id);
        var read = await AuditEntryRead.NextAsync(db, 0, 100, CancellationToken.None);
        Assert.Equal([.. pulls.Select(p => p.EventId), entry.EntryId, later.EventId], read.Select(e => e.EntryId));
    }

    [SkippableFact]
    public async Task On_postgres_a_pull_recorded_already_or_twice_in_one_batch_is_written_once()
    {
        await using var onPostgres = await AuditLogOnPostgres.StartAsync("berth-auditlog-pull-repeats-pg");
        var auditLogDb = onPostgres.Server.App.Services.GetRequiredService<AuditLogDb>();
        Task<int> AppendAsync(IReadOnlyList<ManifestPulled> pulls) =>
            auditLogDb.WriteAsync(db => AuditRecorder.AppendAsync(db, [], pulls, CancellationToken.None), CancellationToken.None);

        var pulls = Enumerable.Range(0, 4).Select(i => Pull("repeat/app", Alice, Start.AddSeconds(i), null)).ToList();
        Assert.Equal(4, await AppendAsync([.. pulls, pulls[1]]));
        // Another batch carrying the same pulls adds only its new one; the same batch again adds nothing.
        var later = Pull("repeat/app", Robot, Start.AddSeconds(9), "v9");
        Assert.Equal(1, await AppendAsync([.. pulls, later]));
        Assert.Equal(0, await AppendAsync([.. pulls, later]));

        await using var db = auditLogDb.Open();
        Guid[] expected = [.. pulls.Select(p => p.EventId), later.EventId];
        var recorded = await db.Pulls.Where(p => expected.Contains(p.EntryId)).OrderBy(p => p.Id).Select(p => p.EntryId).ToListAsync();
        Assert.Equal(expected, recorded);
    }

    [Fact]
    public async Task A_sink_page_stops_at_its_limit_across_both_tables_and_a_full_page_of_pulls_leaves_later_entries_to_the_next()
    {
        await using var log = await StandaloneAuditLog.CreateAsync("berth-auditlog-pull-pages");
        var mapper = new EventMapper(_ => true);
        AuditEntry Tag(int i) => Assert.Single(mapper.Map(new TagCreated("pages/app", $"t{i}", "sha256:" + new string('a', 64)) { Actor = Alice, OccurredAt = Start }));
        var first = Enumerable.Range(0, 3).Select(Tag).ToList();
        var pulls = Enumerable.Range(0, 6).Select(i => Pull("pages/app", Alice, Start.AddSeconds(i), null)).ToList();
        var last = Enumerable.Range(3, 3).Select(Tag).ToList();
        await log.AppendAsync(first, pulls);
        await log.AppendAsync(last, []);
        Guid[] expected = [.. first.Select(e => e.EntryId), .. pulls.Select(p => p.EventId), .. last.Select(e => e.EntryId)];

        async Task<List<Guid>> PageAsync(long afterId, int limit) =>
            [.. (await AuditEntryRead.NextAsync(log.Db, afterId, limit, CancellationToken.None)).Select(e => e.EntryId)];
        // After the first entries, a page of 4 is pulls alone: the entries after them wait.
        Assert.Equal(expected.Skip(3).Take(4), await PageAsync(first[^1].Id, 4));
        // A page that runs past the pulls takes the entries after them, and stops at its limit.
        Assert.Equal(expected.Skip(1).Take(10), await PageAsync(first[0].Id, 10));
        Assert.Equal(expected, await PageAsync(0, 100));
        Assert.Empty(await PageAsync(last[^1].Id, 100));
    }

    /// <summary>The whole log as a sink takes it: pages of <paramref name="pageSize"/> after the last id shipped.</summary>
    private static async Task<List<AuditEntry>> ShippedInPagesAsync(AuditLogDb auditLogDb, int pageSize)
    {
        var log = new List<AuditEntry>();
        while (true)
        {
            await using var db = auditLogDb.Open();
            var page = await AuditEntryRead.NextAsync(db, log.Count == 0 ? 0 : log[^1].Id, pageSize, CancellationToken.None);
            Assert.True(page.Count <= pageSize);
            log.AddRange(page);
            if (page.Count < pageSize) return log;
        }
    }

    /// <summary>Every page of a search, each from the cursor the last one ended at.</summary>
    private static async Task<List<AuditEntry>> PagesAsync(Func<long?, Task<IReadOnlyList<AuditEntry>>> page, bool newestFirst)
    {
        var all = new List<AuditEntry>();
        while (true)
        {
            var next = await page(all.Count == 0 ? null : all[^1].Id);
            Assert.True(next.Zip(next.Skip(1)).All(p => newestFirst ? p.First.Id > p.Second.Id : p.First.Id < p.Second.Id), "a page is out of order");
            all.AddRange(next);
            if (next.Count < 4) return all;
        }
    }

    private static void AssertSameEntry(AuditEntry expected, AuditEntry actual)
    {
        Assert.Equal(
            (expected.EntryId, expected.Kind, expected.Namespace, expected.Repository, expected.Performer, expected.PerformerKind, expected.Address, expected.UserAgent, expected.RequestId),
            (actual.EntryId, actual.Kind, actual.Namespace, actual.Repository, actual.Performer, actual.PerformerKind, actual.Address, actual.UserAgent, actual.RequestId));
        Assert.Equal((expected.OccurredAt, expected.Metadata, expected.SourceEvent), (actual.OccurredAt, actual.Metadata, actual.SourceEvent));
    }

    private static AuditFilter Filter(string? @namespace = null, string? repository = null, string? performer = null, string[]? kinds = null,
        DateTime? since = null, DateTime? until = null) => new(@namespace, repository, performer, kinds ?? [], since, until);

    private static ManifestPulled Pull(string repository, EventActor actor, DateTimeOffset at, string? tag) =>
        new(repository, "sha256:" + Guid.NewGuid().ToString("N").PadRight(64, '0'), "application/vnd.oci.image.manifest.v1+json", tag) { Actor = actor, OccurredAt = at };
}
