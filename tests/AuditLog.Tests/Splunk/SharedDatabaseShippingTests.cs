using Berth.TestSupport;

namespace Berth.AuditLog.Tests.Splunk;

/// <summary>
/// Two audit log instances on one PostgreSQL database, both shipping to the same
/// collector: they take turns per sink, so every entry arrives once and in order,
/// and when one instance stops the other carries on from the shared checkpoint.
/// </summary>
public sealed class SharedDatabaseShippingTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [SkippableFact]
    public async Task Two_instances_ship_each_entry_once_in_order_and_one_carries_on_when_the_other_stops()
    {
        Skip.If(SplunkHecTarget.RealSplunk, "counts every request at the collector: needs the fake");
        var postgres = RequiredServer.Postgres();
        await using var database = await TemporaryPostgresDatabase.CreateAsync(postgres, "berth_auditlog_shared");
        await using var hec = (await SplunkHecTarget.StartAsync())!;
        var fake = hec.Fake!;
        var shared = new Dictionary<string, string?>
        {
            ["AuditLog:DatabaseProvider"] = "postgres",
            ["AuditLog:ConnectionString"] = database.ConnectionString,
        };
        await using var second = await SplunkShippingHost.StartAsync(hec, settings: shared);
        var recorded = new List<Guid>();
        await using (var first = await SplunkShippingHost.StartAsync(hec, settings: shared))
        {
            // Written through both, in many small writes, while both shippers run.
            for (var i = 0; i < 20; i++)
                recorded.AddRange((await (i % 2 == 0 ? first : second).RecordAsync(7)).Select(e => e.EntryId));
            await second.WaitForCheckpointAsync((await second.EntriesAsync())[^1].Id, Deadline);
            Assert.Equal(recorded.Order(), Ids(fake).Order());
            Assert.Equal((await second.EntriesAsync()).Select(e => e.EntryId), Ids(fake));  // once each, in the log's order
        }

        // The first instance is gone (its turn with it): the second ships on alone.
        var later = await second.RecordAsync(15);
        await second.WaitForCheckpointAsync((await second.EntriesAsync())[^1].Id, Deadline);
        Assert.Equal([.. recorded.Order(), .. later.Select(e => e.EntryId).Order()], [.. Ids(fake).Take(recorded.Count).Order(), .. Ids(fake).Skip(recorded.Count).Order()]);
        Assert.Equal((await second.EntriesAsync()).Select(e => e.EntryId), Ids(fake));
        Assert.Empty(fake.Violations);
    }

    private static List<Guid> Ids(FakeSplunkHec fake) => [.. fake.Events.Select(e => e.GetProperty("event").GetProperty("id").GetGuid())];
}
