using System.Diagnostics;
using Berth.AuditLog.Data;
using Berth.Contracts;
using Berth.Contracts.Registry;
using Berth.Data.Outbox;
using Berth.Registry.Services;
using Berth.Server;
using Microsoft.EntityFrameworkCore;

// What recording a pull costs, without serving it: an embedded Berth (every module,
// its data in a temporary directory) is handed PULLS manifest pulls the way manifest
// GETs hand them over (the pull queue), and the run ends when the audit log holds an
// entry for each. Prints entries/s and the process's CPU time per entry as one JSON
// line; the pull path's own cost is measured by bench/auditlog.sh.
//
// With --from-bus the pulls skip the registry's outbox: batches of a thousand are
// published straight to the in-process bus, which measures the audit log's own share.
// With a sink configured (e.g. --AuditLog:Splunk:Url ...) a round ends once every sink
// has confirmed every entry too, and the line adds entries/s to the sinks.
//
// Usage: auditingest [--pulls 200000] [--rounds 3] [--from-bus] [any Server option, e.g. --AuditLog:DatabaseProvider postgres ...]
var fromBus = FlagOption(ref args, "--from-bus");
var pulls = IntOption(ref args, "--pulls", 200_000);
var rounds = IntOption(ref args, "--rounds", 3);
var data = Directory.CreateTempSubdirectory("berth-auditingest").FullName;
try
{
    var app = ServerApp.Build([
        "--urls", "http://127.0.0.1:0", "--Logging:LogLevel:Default", "Warning",
        "--Registry:DataDirectory", data, "--Auth:DataDirectory", data, "--AuditLog:DataDirectory", data, "--Collector:DataDirectory", data,
        "--Auth:InitialAdminPassword", "bench-admin-password", .. args]);
    await app.StartAsync();
    var queue = app.Services.GetRequiredService<PullEventQueue>();
    var bus = app.Services.GetRequiredService<InProcessEventBus>();
    var auditLog = app.Services.GetRequiredService<AuditLogDb>();
    var sinks = app.Services.GetServices<Berth.AuditLog.Shipping.IAuditSink>().Select(s => s.Name).ToArray();
    var actor = new EventActor("bench", "user", "192.0.2.10", "bench/1.0");

    // The first rounds warm up (JIT tiers, caches) and are not reported: the JIT takes
    // two rounds of 100,000 pulls to reach the code's final tier.
    const int warmUpRounds = 2;
    for (var round = 1 - warmUpRounds; round <= rounds; round++)
    {
        var before = await LastEntryIdAsync(auditLog);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var written = BytesWritten();
        var clock = Stopwatch.StartNew();
        var batch = new List<ManifestPulled>(PullEventWriter.MaxBatch);
        for (var i = 0; i < pulls; i++)
        {
            var pulled = new ManifestPulled($"bench/app{i % 50}", "sha256:" + i.ToString("x64"), "application/vnd.oci.image.manifest.v1+json", $"v{i % 20}")
            {
                Actor = actor with { RequestId = $"bench-{i}" },
            };
            if (!fromBus)
            {
                // The queue holds about a minute of pulls; feed it no faster than it drains.
                while (queue.Count >= PullEventQueue.Capacity / 2) await Task.Delay(5);
                queue.Record(pulled);
                continue;
            }
            batch.Add(pulled);
            if (batch.Count < PullEventWriter.MaxBatch && i < pulls - 1) continue;
            await bus.PublishAsync(new ManifestsPulled(batch) { Actor = EventActor.System }, CancellationToken.None);
            batch = new List<ManifestPulled>(PullEventWriter.MaxBatch);
        }
        // Ids are given in order, one an entry, and nothing else is recorded meanwhile: the
        // last id says when all are in without counting a growing table over and over.
        while (await LastEntryIdAsync(auditLog) < before + pulls)
        {
            if (clock.Elapsed > TimeSpan.FromMinutes(10)) throw new TimeoutException("the audit log did not record every pull within 10 minutes");
            await Task.Delay(20);
        }
        var seconds = clock.Elapsed.TotalSeconds;
        var cpuMicroseconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMicroseconds;
        // Then until every sink's checkpoint has passed the last entry: shipping runs at low
        // priority, so on a busy machine it trails recording; the CPU it takes meanwhile counts.
        var last = await LastEntryIdAsync(auditLog);
        while (sinks.Length > 0 && await SlowestCheckpointAsync(auditLog, sinks) < last)
        {
            if (clock.Elapsed > TimeSpan.FromMinutes(10)) throw new TimeoutException("the sinks did not confirm every entry within 10 minutes");
            await Task.Delay(20);
        }
        var shippedSeconds = clock.Elapsed.TotalSeconds;
        var cpuShippedMicroseconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMicroseconds;
        var bytesPerEntry = (BytesWritten() - written) / (double)pulls;
        var recorded = await PullEntriesAfterAsync(auditLog, before);
        if (recorded != pulls) throw new InvalidOperationException($"{pulls} pulls were made but {recorded} pull entries recorded");
        if (round <= 0) continue;
        var shipping = sinks.Length == 0 ? "" : $$""","sinks":"{{string.Join(',', sinks)}}","shipped_per_s":{{pulls / shippedSeconds:F0}},"cpu_us_per_entry_shipped":{{cpuShippedMicroseconds / pulls:F1}}""";
        Console.WriteLine($$"""{"scenario":"audit-ingest","from":"{{(fromBus ? "bus" : "pull queue")}}","round":{{round}},"pulls":{{pulls}},"seconds":{{seconds:F2}},"entries_per_s":{{pulls / seconds:F0}},"cpu_us_per_entry":{{cpuMicroseconds / pulls:F1}},"bytes_written_per_entry":{{bytesPerEntry:F0}}{{shipping}}}""");
    }
    await app.StopAsync();
}
finally
{
    Directory.Delete(data, recursive: true);
}

static async Task<long> LastEntryIdAsync(AuditLogDb auditLog)
{
    await using var db = auditLog.Open();
    return await db.LastIdAsync(CancellationToken.None);
}

static async Task<long> SlowestCheckpointAsync(AuditLogDb auditLog, string[] sinks)
{
    await using var db = auditLog.Open();
    var checkpoints = await db.Checkpoints.Where(c => sinks.Contains(c.Sink)).Select(c => c.LastShippedId).ToListAsync();
    return checkpoints.Count < sinks.Length ? 0 : checkpoints.Min();
}

static async Task<long> PullEntriesAfterAsync(AuditLogDb auditLog, long id)
{
    await using var db = auditLog.Open();
    return await db.Pulls.LongCountAsync(p => p.Id > id) + await db.Entries.LongCountAsync(e => e.Id > id && e.Kind == "pull_repo");
}

// What the process handed to write(2) and its kind, files and sockets alike (Linux's /proc/self/io); 0 elsewhere.
static long BytesWritten()
{
    if (!File.Exists("/proc/self/io")) return 0;
    var line = File.ReadLines("/proc/self/io").First(l => l.StartsWith("wchar:", StringComparison.Ordinal));
    return long.Parse(line["wchar:".Length..], System.Globalization.CultureInfo.InvariantCulture);
}

static bool FlagOption(ref string[] args, string name)
{
    var at = Array.IndexOf(args, name);
    if (at < 0) return false;
    args = [.. args[..at], .. args[(at + 1)..]];
    return true;
}

static int IntOption(ref string[] args, string name, int fallback)
{
    var at = Array.IndexOf(args, name);
    if (at < 0 || at + 1 >= args.Length) return fallback;
    var value = int.Parse(args[at + 1], System.Globalization.CultureInfo.InvariantCulture);
    args = [.. args[..at], .. args[(at + 2)..]];
    return value;
}
