using Berth.Registry.Data;
using Berth.Registry.Services;
using Berth.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Registry.Tests;

/// <summary>
/// Warming hinted blob links (what an instance does when another one links a blob): the
/// database decides what gets cached, whatever a hint names. On both providers: each
/// reads the links with its own statement.
/// </summary>
public abstract class BlobLinkWarmingTests
{
    /// <summary>The server the tests run on (skips, or fails under CI, when it cannot start).</summary>
    protected abstract RunningApp Server { get; }

    private OciClient? _client;

    private OciClient Oci => _client ??= new(Server.CreateClient());

    [SkippableFact]
    public async Task Warming_caches_the_links_the_database_has_and_nothing_a_hint_merely_names()
    {
        var services = Server.App.Services;
        var cache = services.GetRequiredService<RegistryCache>();
        var repositories = services.GetRequiredService<RepositoryDirectory>();
        var repository = OciClient.NewRepository("warm");
        var other = OciClient.NewRepository("warmother");
        var content = OciClient.RandomBytes(300);
        var digest = await Oci.PushBlobAsync(repository, content);
        await Oci.PushBlobAsync(other, OciClient.RandomBytes(10));
        var repositoryId = (await repositories.FindAsync(repository, CancellationToken.None))!.Value;
        var otherId = (await repositories.FindAsync(other, CancellationToken.None))!.Value;
        var unknown = OciClient.Sha256(OciClient.RandomBytes(10));
        // As on an instance that did not make the link.
        cache.RemoveBlob(repositoryId, digest);
        Assert.Null(cache.GetBlobSize(repositoryId, digest));

        await services.GetRequiredService<BlobService>().WarmLinksAsync(
            [(repositoryId, digest), (otherId, digest), (repositoryId, unknown)], CancellationToken.None);

        Assert.Equal(content.Length, cache.GetBlobSize(repositoryId, digest));
        // The blob exists, but is not this repository's to serve.
        Assert.Null(cache.GetBlobSize(otherId, digest));
        Assert.Null(cache.GetBlobSize(repositoryId, unknown));
        using var response = await Oci.SendAsync(HttpMethod.Head, $"/v2/{other}/blobs/{digest}");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
    }

    [SkippableFact]
    public async Task A_link_due_for_renewal_is_left_for_the_request_that_renews_it()
    {
        var services = Server.App.Services;
        var cache = services.GetRequiredService<RegistryCache>();
        var repository = OciClient.NewRepository("warmold");
        var digest = await Oci.PushBlobAsync(repository, OciClient.RandomBytes(200));
        var repositoryId = (await services.GetRequiredService<RepositoryDirectory>().FindAsync(repository, CancellationToken.None))!.Value;
        await services.GetRequiredService<RegistryDb>().WriteAsync(db => db.RepositoryBlobs.Where(l => l.RepositoryId == repositoryId && l.Digest == digest)
            .ExecuteUpdateAsync(u => u.SetProperty(l => l.LinkedAt, DateTime.UtcNow.AddDays(-30)), CancellationToken.None), CancellationToken.None);
        cache.RemoveBlob(repositoryId, digest);

        await services.GetRequiredService<BlobService>().WarmLinksAsync([(repositoryId, digest)], CancellationToken.None);

        Assert.Null(cache.GetBlobSize(repositoryId, digest));
        using var response = await Oci.SendAsync(HttpMethod.Head, $"/v2/{repository}/blobs/{digest}");
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(200, cache.GetBlobSize(repositoryId, digest));
    }
}

public sealed class BlobLinkWarmingOnSqliteTests(ServerFixture fixture) : BlobLinkWarmingTests, IClassFixture<ServerFixture>
{
    protected override RunningApp Server => fixture.Server;
}

public sealed class BlobLinkWarmingOnPostgresTests(PostgresFixture fixture) : BlobLinkWarmingTests, IClassFixture<PostgresFixture>
{
    protected override RunningApp Server => fixture.Require();
}
