using Berth.AuditLog.Data;
using Berth.AuditLog.Search;
using Berth.Contracts;
using Berth.Contracts.Accounts;
using Berth.Contracts.Registry;
using Berth.Data.Outbox;
using Berth.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.AuditLog.Tests;

/// <summary>
/// The kind index leaves pulls out (recording a pull updates one index fewer): a search
/// for other kinds still goes through it, and searches by kind, pulls among them or not,
/// find exactly the entries of those kinds, on SQLite and on PostgreSQL.
/// </summary>
public sealed class KindIndexTests
{
    private const string KindIndex = "IX_audit_entries_Kind_Id";

    [Fact]
    public async Task A_search_for_kinds_other_than_pulls_uses_the_kind_index_which_holds_no_pulls_on_sqlite()
    {
        using var data = new TempDirectory("berth-auditlog-kind-index");
        await using var server = await BerthHosts.StartSecuredServerAsync(data.Path);
        await RecordAsync(server);
        await using var db = server.App.Services.GetRequiredService<AuditLogDb>().Open();

        var search = new AuditFilter(null, null, null, ["login_failure", "create_tag"], null, null)
            .Apply(db.Entries.AsNoTracking()).OrderByDescending(e => e.Id).Take(50);
        Assert.Contains(KindIndex, await QueryPlanAsync(db, search.ToQueryString()));
        Assert.EndsWith("WHERE \"Kind\" <> 'pull_repo'", await IndexDefinitionAsync(db));
        await FindsExactlyTheKindsAsync(server);
    }

    [SkippableFact]
    public async Task Searches_by_kind_find_exactly_the_entries_of_those_kinds_on_postgres()
    {
        await using var onPostgres = await AuditLogOnPostgres.StartAsync("berth-auditlog-kind-index-pg");
        await RecordAsync(onPostgres.Server);
        await FindsExactlyTheKindsAsync(onPostgres.Server);
    }

    private static async Task RecordAsync(RunningApp server)
    {
        var bus = server.App.Services.GetRequiredService<InProcessEventBus>();
        var actor = new EventActor("indexer", "user", "192.0.2.3", "test");
        var pulls = Enumerable.Range(0, 5)
            .Select(i => new ManifestPulled("kinds/app", "sha256:" + i.ToString("x64"), "application/vnd.oci.image.manifest.v1+json", "v1") { Actor = actor })
            .ToList();
        await bus.PublishAsync(new ManifestsPulled(pulls) { Actor = actor }, CancellationToken.None);
        await bus.PublishAsync(new LoginFailed("indexer", "wrong password") { Actor = actor }, CancellationToken.None);
        await bus.PublishAsync(new LoginFailed("indexer", "wrong password") { Actor = actor }, CancellationToken.None);
        await bus.PublishAsync(new TagCreated("kinds/app", "v1", "sha256:" + new string('a', 64)) { Actor = actor }, CancellationToken.None);
    }

    private static async Task FindsExactlyTheKindsAsync(RunningApp server)
    {
        var search = server.App.Services.GetRequiredService<IAuditSearch>();
        async Task<string> KindsFoundAsync(params string[] kinds) => string.Join(' ',
            (await search.NewestAsync(new AuditFilter(null, null, "indexer", kinds, null, null), null, 100, CancellationToken.None))
                .Select(e => e.Kind).Order(StringComparer.Ordinal));

        Assert.Equal("login_failure login_failure", await KindsFoundAsync("login_failure"));
        Assert.Equal("pull_repo pull_repo pull_repo pull_repo pull_repo", await KindsFoundAsync("pull_repo"));
        Assert.Equal("create_tag pull_repo pull_repo pull_repo pull_repo pull_repo", await KindsFoundAsync("pull_repo", "create_tag"));
        Assert.Equal("create_tag login_failure login_failure", await KindsFoundAsync("login_failure", "create_tag"));
    }

    /// <summary>SQLite's plan for the query EF would run (its parameters left unbound: the plan does not depend on them).</summary>
    private static async Task<string> QueryPlanAsync(AuditLogDbContext db, string queryString)
    {
        var sql = string.Join('\n', queryString.Split('\n').Where(line => !line.StartsWith(".param", StringComparison.Ordinal)));
        await db.Database.OpenConnectionAsync();
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + sql;
        await using var reader = await command.ExecuteReaderAsync();
        var plan = new List<string>();
        while (await reader.ReadAsync()) plan.Add(reader.GetString(3));
        return string.Join('\n', plan);
    }

    /// <summary>The kind index as SQLite keeps it: the statement that made it.</summary>
    private static async Task<string> IndexDefinitionAsync(AuditLogDbContext db)
    {
        await db.Database.OpenConnectionAsync();
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = $"SELECT sql FROM sqlite_master WHERE type = 'index' AND name = '{KindIndex}'";
        return (string)(await command.ExecuteScalarAsync())!;
    }
}
