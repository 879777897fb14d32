using System.IO.Compression;
using System.Net;
using System.Text.Json;
using Berth.AuditLog.Data;
using Berth.AuditLog.Recording;
using Berth.AuditLog.Retention;
using Berth.Contracts;
using Berth.Contracts.Registry;
using Berth.Data.Outbox;
using Berth.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Berth.AuditLog.Tests;

/// <summary>
/// The audit log in the embedded Server: real actions are recorded once each, and the
/// search, aggregate and export APIs show each caller what they may see. Retention
/// archives what is due and records that it did.
/// </summary>
public sealed class AuditLogApiTests : IAsyncLifetime
{
    private readonly TempDirectory _data = new("berth-auditlog");
    private RunningApp _server = null!;

    public async Task InitializeAsync() => _server = await BerthHosts.StartSecuredServerAsync(_data.Path, "--AuditLog:RetentionDays", "30");

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _data.Dispose();
    }

    [Fact]
    public async Task Logins_and_account_changes_are_recorded_once_and_searchable_by_who_may_see_them()
    {
        var admin = Api("admin", BerthHosts.AdminPassword);
        Assert.Equal(HttpStatusCode.OK, (await RegistryLogin.CallAsync(admin, HttpMethod.Post, "/api/v1/users", new { name = "carol", password = "carol-password-1" })).Status);
        Assert.Equal(HttpStatusCode.OK, (await RegistryLogin.CallAsync(admin, HttpMethod.Post, "/api/v1/users", new { name = "dave", password = "dave-password-1" })).Status);
        var carol = Api("carol", "carol-password-1");
        Assert.Equal(HttpStatusCode.OK, (await RegistryLogin.CallAsync(carol, HttpMethod.Post, "/api/v1/organizations", new { name = "carolorg" })).Status);
        await RegistryLogin.TokenAsync(_server.CreateClient(), "carol", "carol-password-1", "repository:carolorg/app:pull");
        // A client asks for a token per pull: the same login from the same client is recorded once per window.
        await RegistryLogin.TokenAsync(_server.CreateClient(), "carol", "carol-password-1", "repository:carolorg/app:pull");
        await Assert.ThrowsAsync<HttpRequestException>(() => RegistryLogin.TokenAsync(_server.CreateClient(), "dave", "wrong-password"));

        var all = await EventuallyAsync(admin, "?page_size=1000", e => e.Count(x => x.Kind == "login_failure") == 1 && e.Any(x => x.Kind == "login_success"));
        Assert.Single(all, e => e.Kind == "user_create" && e.Namespace == "carol");
        // Published by Auth at first start, before the audit log's schema existed: recorded all the same.
        Assert.Single(all, e => e.Kind == "user_create" && e.Namespace == "admin");
        var org = Assert.Single(all, e => e.Kind == "org_create");
        Assert.Equal(("carol", "user", "carolorg"), (org.Performer, org.PerformerKind, org.Namespace));
        var login = Assert.Single(all, e => e.Kind == "login_success" && e.Performer == "carol");
        Assert.Equal("password", login.Metadata.GetProperty("method").GetString());
        Assert.False(string.IsNullOrEmpty(login.Address));
        Assert.Single(all, e => e.Kind == "login_failure" && e.Namespace == "dave");
        Assert.DoesNotContain(all, e => e.Metadata.ToString().Contains("wrong-password", StringComparison.Ordinal));

        // carol administers carolorg: she sees its entries; without a namespace only her own actions.
        var carolOrg = await ListAsync(carol, "?namespace=carolorg");
        Assert.Contains(carolOrg, e => e.Kind == "org_create");
        Assert.All(carolOrg, e => Assert.Equal("carolorg", e.Namespace));
        var carolOwn = await ListAsync(carol, "");
        Assert.All(carolOwn, e => Assert.Equal("carol", e.Performer));
        Assert.DoesNotContain(carolOwn, e => e.Kind == "user_create");  // admin did that
        // dave administers nothing of carol's: asking for carolorg shows only his own actions there (none).
        var dave = Api("dave", "dave-password-1");
        Assert.Empty(await ListAsync(dave, "?namespace=carolorg"));
        // An account named like a made-up performer does not read that performer's entries.
        Assert.Equal(HttpStatusCode.OK, (await RegistryLogin.CallAsync(admin, HttpMethod.Post, "/api/v1/users", new { name = "anonymous", password = "anon-password-1" })).Status);
        await _server.App.Services.GetRequiredService<InProcessEventBus>().PublishAsync(
            new TagCreated("public/app", "v1", "sha256:" + new string('f', 64)) { Actor = new EventActor("anonymous", "anonymous", "192.0.2.50", "curl") }, CancellationToken.None);
        Assert.Contains(await ListAsync(admin, "?repository=public/app"), e => e.Performer == "anonymous");
        Assert.DoesNotContain(await ListAsync(Api("anonymous", "anon-password-1"), ""), e => e.Address == "192.0.2.50");
        Assert.Equal(HttpStatusCode.Unauthorized, (await RegistryLogin.CallAsync(_server.CreateClient(), HttpMethod.Get, "/api/v1/auditlog/entries")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await RegistryLogin.CallAsync(Api("carol", "not-her-password"), HttpMethod.Get, "/api/v1/auditlog/entries")).Status);
    }

    [Fact]
    public async Task A_redelivered_event_adds_nothing_and_pages_aggregates_and_export_agree()
    {
        var bus = _server.App.Services.GetRequiredService<InProcessEventBus>();
        var actor = new EventActor("pusher", "user", "192.0.2.9", "skopeo");
        var events = Enumerable.Range(0, 25).Select(i => new TagCreated("paging/app", $"t{i}", "sha256:" + new string('d', 64)) { Actor = actor }).ToList();
        foreach (var e in events) await bus.PublishAsync(e, CancellationToken.None);
        // At-least-once delivery: the same events again.
        foreach (var e in events.Take(10)) await bus.PublishAsync(e, CancellationToken.None);

        var admin = Api("admin", BerthHosts.AdminPassword);
        var seen = new List<Entry>();
        var cursor = "";
        do
        {
            var (status, body) = await RegistryLogin.CallAsync(admin, HttpMethod.Get, $"/api/v1/auditlog/entries?repository=paging/app&page_size=7&cursor={cursor}");
            Assert.Equal(HttpStatusCode.OK, status);
            seen.AddRange(Entries(body!.Value));
            cursor = body.Value.TryGetProperty("nextCursor", out var next) ? next.GetString() ?? "" : "";
        }
        while (cursor.Length > 0);
        Assert.Equal(25, seen.Count);
        Assert.Equal(events.Select(e => e.EventId.ToString()).Reverse(), seen.Select(e => e.Id));  // newest first, each once

        var (aggregateStatus, aggregates) = await RegistryLogin.CallAsync(admin, HttpMethod.Get, "/api/v1/auditlog/aggregates?repository=paging/app");
        Assert.Equal(HttpStatusCode.OK, aggregateStatus);
        var count = Assert.Single(aggregates!.Value.GetProperty("counts").EnumerateArray());
        Assert.Equal(("create_tag", 25L), (count.GetProperty("kind").GetString(), long.Parse(count.GetProperty("count").ToString(), System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(DateTime.UtcNow.ToString("yyyy-MM-dd"), count.GetProperty("day").GetString());

        using var export = await admin.GetAsync("/api/v1/auditlog/export?repository=paging/app&since=2000-01-01T00:00:00Z");
        Assert.Equal(HttpStatusCode.OK, export.StatusCode);
        Assert.Equal("application/x-ndjson", export.Content.Headers.ContentType?.MediaType);
        var lines = (await export.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(events.Select(e => e.EventId.ToString()), lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("id").GetString()));

        Assert.Equal(HttpStatusCode.BadRequest, (await admin.GetAsync("/api/v1/auditlog/export?since=yesterday")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await RegistryLogin.CallAsync(admin, HttpMethod.Get, "/api/v1/auditlog/entries?cursor=abc")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await RegistryLogin.CallAsync(admin, HttpMethod.Get, "/api/v1/auditlog/entries?page_size=5000")).Status);
    }

    [Fact]
    public async Task Retention_archives_old_entries_removes_them_and_records_the_rotation()
    {
        var db = _server.App.Services.GetRequiredService<AuditLogDb>();
        var old = Enumerable.Range(0, 3).Select(i => new AuditEntry
        {
            EntryId = Guid.NewGuid(), Kind = AuditKinds.PushRepo, Namespace = "old", Repository = "old/app", Performer = "p", PerformerKind = "user",
            OccurredAt = DateTime.UtcNow.AddDays(-40 - i), SourceEvent = "test",
        }).ToList();
        var recent = new AuditEntry
        {
            EntryId = Guid.NewGuid(), Kind = AuditKinds.PushRepo, Namespace = "old", Repository = "old/app", Performer = "p", PerformerKind = "user",
            OccurredAt = DateTime.UtcNow.AddDays(-1), SourceEvent = "test",
        };
        await db.WriteAsync(async context =>
        {
            await AuditRecorder.AppendAsync(context, [.. old, recent], CancellationToken.None);
            await context.SaveChangesAsync();
        }, CancellationToken.None);

        var rotation = _server.App.Services.GetServices<IHostedService>().OfType<LogRotation>().Single();
        Assert.Equal(3, await rotation.RotateAsync(CancellationToken.None));

        await using var context = db.Open();
        var left = await context.Entries.Where(e => e.Namespace == "old").Select(e => e.EntryId).ToListAsync();
        Assert.Equal([recent.EntryId], left);
        var rotated = await context.Entries.SingleAsync(e => e.Kind == AuditKinds.RotateLogs);
        var archiveName = JsonDocument.Parse(rotated.Metadata).RootElement.GetProperty("archive").GetString()!;
        var archive = Directory.GetFiles(_data.Combine("audit-archive")).Single();
        Assert.Equal(archiveName, Path.GetFileName(archive));
        using var reader = new StreamReader(new GZipStream(File.OpenRead(archive), CompressionMode.Decompress));
        var archived = (await reader.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("entryId").GetGuid()).ToHashSet();
        Assert.Superset(old.Select(e => e.EntryId).ToHashSet(), archived);
        // Nothing more is due: no second archive.
        Assert.Equal(0, await rotation.RotateAsync(CancellationToken.None));
        Assert.Single(Directory.GetFiles(_data.Combine("audit-archive")));
    }

    private HttpClient Api(string user, string password) => RegistryLogin.WithBasic(_server.CreateClient(), user, password);

    private static async Task<List<Entry>> ListAsync(HttpClient http, string query)
    {
        var (status, body) = await RegistryLogin.CallAsync(http, HttpMethod.Get, "/api/v1/auditlog/entries" + query);
        Assert.Equal(HttpStatusCode.OK, status);
        return Entries(body!.Value);
    }

    private static async Task<List<Entry>> EventuallyAsync(HttpClient http, string query, Func<List<Entry>, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var entries = await ListAsync(http, query);
            if (done(entries)) return entries;
            if (DateTime.UtcNow > deadline) Assert.Fail($"entries never arrived; have: {string.Join(", ", entries.Select(e => e.Kind))}");
            await Task.Delay(100);
        }
    }

    private static List<Entry> Entries(JsonElement body) =>
        body.TryGetProperty("entries", out var entries)
            ? [.. entries.EnumerateArray().Select(e => new Entry(
                e.GetProperty("id").GetString()!, e.GetProperty("kind").GetString()!, Text(e, "namespace"), Text(e, "performer"), Text(e, "performerKind"),
                Text(e, "address"), e.TryGetProperty("metadata", out var m) ? m.Clone() : default))]
            : [];

    private static string Text(JsonElement e, string name) => e.TryGetProperty(name, out var v) ? v.GetString() ?? "" : "";

    private sealed record Entry(string Id, string Kind, string Namespace, string Performer, string PerformerKind, string Address, JsonElement Metadata);
}
