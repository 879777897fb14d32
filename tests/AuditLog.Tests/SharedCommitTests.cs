using Berth.AuditLog.Data;
using Berth.AuditLog.Recording;
using Berth.Contracts;
using Berth.Contracts.Registry;
using Berth.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.AuditLog.Tests;

/// <summary>
/// Events delivered side by side (as a RabbitMQ queue delivers up to its prefetch) share
/// commits, and each is still recorded exactly once, redeliveries among them included.
/// </summary>
public sealed class SharedCommitTests : IAsyncLifetime
{
    private static readonly EventActor Pusher = new("alice", "user", "192.0.2.7", "podman/5.0");

    private readonly TempDirectory _data = new("berth-auditlog-shared-commits");
    private RunningApp _server = null!;

    public async Task InitializeAsync() => _server = await BerthHosts.StartSecuredServerAsync(_data.Path);

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _data.Dispose();
    }

    [Fact]
    public Task Concurrent_deliveries_and_redeliveries_are_each_recorded_once_on_sqlite() => DeliverTogetherAsync(_server);

    [SkippableFact]
    public async Task Concurrent_deliveries_and_redeliveries_are_each_recorded_once_on_postgres()
    {
        await using var onPostgres = await AuditLogOnPostgres.StartAsync("berth-auditlog-shared-commits-pg");
        await DeliverTogetherAsync(onPostgres.Server);
    }

    private static async Task DeliverTogetherAsync(RunningApp server)
    {
        var repository = $"shared/commits-{Guid.NewGuid():N}";
        IntegrationEvent[] uploads = [.. Enumerable.Range(0, 60).Select(i => new BlobUploaded(repository, $"sha256:{i:x64}", i) { Actor = Pusher })];
        IntegrationEvent[] pullBatches = [.. Enumerable.Range(0, 3).Select(b => new ManifestsPulled(
            [.. Enumerable.Range(0, 700).Select(i => new ManifestPulled(repository, $"sha256:{b * 1000 + i:x64}", "application/vnd.oci.image.manifest.v1+json", "latest") { Actor = Pusher })]) { Actor = Pusher })];
        var recorder = server.App.Services.GetRequiredService<AuditRecorder>();

        // Every event twice, all at once, as a redelivery can arrive beside its first delivery.
        var deliveries = uploads.Concat(pullBatches).SelectMany(e => new[] { e, e }).ToList();
        await Task.WhenAll(deliveries.Select(e => Task.Run(() => recorder.HandleAsync(e, CancellationToken.None))));

        await using var db = server.App.Services.GetRequiredService<AuditLogDb>().Open();
        var entryIds = await db.Entries.Where(e => e.Repository == repository).Select(e => e.EntryId).ToListAsync();
        Assert.Equal(uploads.Select(e => e.EventId).Order(), entryIds.Order());
        var repositoryId = await db.Names.Where(n => n.Name == repository).Select(n => n.Id).SingleAsync();
        Assert.Equal(3 * 700, await db.Pulls.CountAsync(p => p.RepositoryId == repositoryId));
        // One id order across both tables, no id given twice.
        var ids = await db.Entries.Where(e => e.Repository == repository).Select(e => e.Id)
            .Concat(db.Pulls.Where(p => p.RepositoryId == repositoryId).Select(p => p.Id)).ToListAsync();
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }
}
