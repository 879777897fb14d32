using System.Globalization;
using Berth.AuditLog.Data;
using Microsoft.EntityFrameworkCore;

namespace Berth.AuditLog.Tests;

/// <summary>
/// The shipper's read of the log on SQLite, which goes around EF: every entry reads
/// back exactly as EF reads it (every property, a date's kind included), whatever the
/// rows before it held, and a batch starts after its checkpoint and stops at its limit.
/// Each test has a database of its own: a server's start-up events could be recorded between
/// or after a test's entries and land in its reads.
/// </summary>
public sealed class AuditEntryReadTests
{
    [Fact]
    public async Task Entries_read_around_ef_equal_what_ef_reads_field_for_field()
    {
        await using var log = await StandaloneAuditLog.CreateAsync("berth-auditlog-read-fields");
        var at = new DateTime(2026, 11, 30, 1, 2, 3, DateTimeKind.Utc);
        List<AuditEntry> entries =
        [
            // Runs of the same values, then a value of the same length that differs in one byte.
            Entry("user1", at.AddTicks(1234567)), Entry("user1", at.AddTicks(1234567)), Entry("user2", at.AddTicks(1234567)),
            // Fractions with trailing zeros, none at all, and the last tick of a day.
            Entry("user2", at.AddTicks(1200000)), Entry("user2", at), Entry("user2", new DateTime(2026, 12, 31, 23, 59, 59, DateTimeKind.Utc).AddTicks(9999999)),
            // Every optional field empty, then set again.
            Sparse(at), Entry("ünïcödé ✓", at.AddTicks(1)),
            // Longer than the first buffer a column keeps, then short again.
            Entry(new string('x', 300) + "é", at.AddTicks(10)), Entry("y", at.AddTicks(100)),
        ];
        await log.AppendAsync(entries, []);
        var firstId = entries[0].Id - 1;

        var viaEf = await ReadWithEfAsync(log.Db, firstId, 100);
        var direct = await ReadDirectAsync(log.Db, firstId, 100);

        Assert.Equal(entries.Count, viaEf.Count);
        Assert.Equal(Describe(viaEf), Describe(direct));
        Assert.All(direct, e => Assert.Equal(DateTimeKind.Unspecified, e.OccurredAt.Kind));
    }

    [Fact]
    public async Task Ids_dates_and_texts_stored_by_other_writers_read_as_ef_reads_them()
    {
        await using var log = await StandaloneAuditLog.CreateAsync("berth-auditlog-read-writers");
        var at = new DateTime(2026, 11, 30, 1, 2, 3, DateTimeKind.Utc);
        List<AuditEntry> entries = [Entry("a", at), Entry("b", at), Entry("c", at), Entry("d", at), Entry("e", at), Entry("f", at)];
        await log.AppendAsync(entries, []);
        var db = log.Db;
        // A lower-case id, an id as 16 bytes, a date with no seconds, dates with a 'T' and a zone.
        await db.Database.ExecuteSqlRawAsync("UPDATE audit_entries SET \"EntryId\" = lower(\"EntryId\") WHERE \"Id\" = {0}", entries[0].Id);
        await db.Database.ExecuteSqlRawAsync("UPDATE audit_entries SET \"EntryId\" = {1} WHERE \"Id\" = {0}", entries[1].Id, Guid.NewGuid().ToByteArray());
        await db.Database.ExecuteSqlRawAsync("UPDATE audit_entries SET \"OccurredAt\" = '2026-11-30T01:02:03.5+00:00' WHERE \"Id\" = {0}", entries[2].Id);
        await db.Database.ExecuteSqlRawAsync("UPDATE audit_entries SET \"OccurredAt\" = '2026-11-30 01:02' WHERE \"Id\" = {0}", entries[3].Id);
        await db.Database.ExecuteSqlRawAsync("UPDATE audit_entries SET \"OccurredAt\" = '2026-11-30T01:02:03Z' WHERE \"Id\" = {0}", entries[4].Id);
        await db.Database.ExecuteSqlRawAsync("UPDATE audit_entries SET \"OccurredAt\" = '2026-11-30 01:02:03.25-05:00' WHERE \"Id\" = {0}", entries[5].Id);
        var firstId = entries[0].Id - 1;

        var viaEf = await ReadWithEfAsync(log.Db, firstId, 10);
        Assert.Equal(entries.Count, viaEf.Count);
        Assert.Equal(Describe(viaEf), Describe(await ReadDirectAsync(log.Db, firstId, 10)));
    }

    [Fact]
    public async Task A_batch_starts_after_its_checkpoint_and_stops_at_its_limit()
    {
        await using var log = await StandaloneAuditLog.CreateAsync("berth-auditlog-read-batches");
        var entries = Enumerable.Range(0, 25).Select(i => Entry($"user{i}", new DateTime(2026, 11, 30, 1, 2, 3).AddSeconds(i))).ToList();
        await log.AppendAsync(entries, []);

        async Task<List<AuditEntry>> NextAsync(long afterId) => await AuditEntryRead.NextAsync(log.Db, afterId, 10, CancellationToken.None);
        Assert.Equal(entries.Skip(5).Take(10).Select(e => e.EntryId), (await NextAsync(entries[4].Id)).Select(e => e.EntryId));
        Assert.Equal(entries.Skip(20).Select(e => e.EntryId), (await NextAsync(entries[19].Id)).Select(e => e.EntryId));
        Assert.Empty(await NextAsync(entries[^1].Id));
    }

    [Theory]
    [InlineData("2026-11-30 01:02:03")]
    [InlineData("2026-11-30 01:02:03.1")]
    [InlineData("2026-11-30 01:02:03.0000001")]
    [InlineData("2028-02-29 23:59:59.9999999")]
    [InlineData("0001-01-01 00:00:00")]
    public void The_log_date_format_reads_as_datetime_parse_reads_it(string text)
    {
        Assert.True(AuditEntryRead.TryReadLogFormat(System.Text.Encoding.UTF8.GetBytes(text), out var value));
        var parsed = DateTime.Parse(text, CultureInfo.InvariantCulture);
        Assert.Equal((parsed, parsed.Kind), (value, value.Kind));
    }

    [Theory]
    [InlineData("2026-11-30 01:02")]
    [InlineData("2026-11-30 01:02:03.")]
    [InlineData("2026-11-30 01:02:03.12345678")]
    [InlineData("2026-11-30T01:02:03")]
    [InlineData("2026-13-30 01:02:03")]
    [InlineData("2027-02-29 01:02:03")]
    [InlineData("2026-11-30 24:00:00")]
    [InlineData("2026-11-30 01:02:+3")]
    [InlineData("2026-11-30 01:02:03.-1")]
    public void Other_text_is_not_taken_for_the_log_format(string text)
    {
        Assert.False(AuditEntryRead.TryReadLogFormat(System.Text.Encoding.UTF8.GetBytes(text), out _));
    }

    private static AuditEntry Entry(string performer, DateTime occurredAt) => new()
    {
        EntryId = Guid.CreateVersion7(), Kind = "pull_repo", Namespace = "reads", Repository = "reads/app", Performer = performer, PerformerKind = "user",
        Address = "2001:db8::7", UserAgent = "podman/5.0", RequestId = Guid.NewGuid().ToString("N"), OccurredAt = occurredAt,
        Metadata = $$"""{"performer":"{{performer}}"}""", SourceEvent = "Berth.Contracts.Registry.ManifestPulled",
    };

    private static AuditEntry Sparse(DateTime occurredAt)
    {
        var entry = Entry("user2", occurredAt);
        entry.Namespace = "";
        entry.Repository = entry.Address = entry.UserAgent = entry.RequestId = null;
        return entry;
    }

    private static async Task<List<AuditEntry>> ReadWithEfAsync(AuditLogDbContext db, long afterId, int limit)
    {
        db.ChangeTracker.Clear();
        return await db.Entries.AsNoTracking().Where(e => e.Id > afterId).OrderBy(e => e.Id).Take(limit).ToListAsync();
    }

    private static async Task<List<AuditEntry>> ReadDirectAsync(AuditLogDbContext db, long afterId, int limit)
    {
        Assert.True(db.Database.IsSqlite());
        return await AuditEntryRead.NextAsync(db, afterId, limit, CancellationToken.None);
    }

    /// <summary>Every property of every entry, a date with its kind.</summary>
    private static List<string> Describe(IEnumerable<AuditEntry> entries) =>
    [
        .. entries.Select(e => string.Join(" | ", typeof(AuditEntry).GetProperties().Select(p => p.GetValue(e) switch
        {
            DateTime t => t.ToString("O", CultureInfo.InvariantCulture) + " " + t.Kind,
            null => "<null>",
            var v => v.ToString(),
        }))),
    ];
}
