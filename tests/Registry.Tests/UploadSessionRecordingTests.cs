using System.Net;
using Berth.Registry.Data;
using Berth.Registry.Services;
using Berth.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Registry.Tests;

/// <summary>
/// <see cref="UploadSessionRecorder"/>: an upload that ends within a moment of starting
/// never gets a session row, one that goes on gets it, and no ending leaves a row behind.
/// </summary>
public sealed class UploadSessionRecordingTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly OciClient _oci = new(fixture.Server.CreateClient());
    private RegistryDb Db => fixture.Server.App.Services.GetRequiredService<RegistryDb>();
    private UploadSessionRecorder Recorder => fixture.Server.App.Services.GetRequiredService<UploadSessionRecorder>();

    private static readonly TimeSpan PastTheMoment = UploadSessionRecorder.LongestWait + TimeSpan.FromMilliseconds(500);

    [Fact]
    public async Task Uploads_ended_at_once_never_get_a_row_and_one_that_goes_on_gets_its_row_until_it_ends()
    {
        var repository = OciClient.NewRepository("sessions");
        var rowsBefore = Recorder.RowsWritten;
        var cancelledLocation = await _oci.StartUploadAsync(repository);
        using (var delete = await _oci.SendAsync(HttpMethod.Delete, cancelledLocation)) Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        var quick = OciClient.RandomBytes(3000);
        var quickLocation = await _oci.StartUploadAsync(repository);
        using (var put = await _oci.SendAsync(HttpMethod.Put, OciClient.WithQuery(quickLocation, "digest=" + OciClient.Sha256(quick)), quick))
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        var slow = OciClient.RandomBytes(3000);
        var slowLocation = await _oci.StartUploadAsync(repository);
        using (var patch = await _oci.SendAsync(HttpMethod.Patch, slowLocation, slow[..1000])) Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);

        await Task.Delay(PastTheMoment);
        Assert.Equal(1, Recorder.RowsWritten - rowsBefore); // the slow upload's alone (tests of a class run one at a time)
        Assert.Empty(await SessionRowsAsync(UploadId(quickLocation)));
        Assert.Empty(await SessionRowsAsync(UploadId(cancelledLocation)));
        Assert.Equal([repository], await SessionRowsAsync(UploadId(slowLocation)));

        using (var put = await _oci.SendAsync(HttpMethod.Put, OciClient.WithQuery(slowLocation, "digest=" + OciClient.Sha256(slow)), slow[1000..]))
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Empty(await SessionRowsAsync(UploadId(slowLocation)));
        Assert.Equal(slow, await _oci.Http.GetByteArrayAsync($"/v2/{repository}/blobs/{OciClient.Sha256(slow)}"));
    }

    [Fact]
    public async Task Uploads_ending_about_when_their_rows_are_written_leave_no_row_behind()
    {
        var repository = OciClient.NewRepository("sessions");
        // Each ends somewhere around the moment its row falls due: before, during or after the write.
        var uploads = Enumerable.Range(0, 40).Select(async i =>
        {
            var blob = OciClient.RandomBytes(2000 + i);
            var location = await _oci.StartUploadAsync(repository);
            await Task.Delay(UploadSessionRecorder.Delay - TimeSpan.FromMilliseconds(300) + TimeSpan.FromMilliseconds(20 * i));
            using var put = await _oci.SendAsync(HttpMethod.Put, OciClient.WithQuery(location, "digest=" + OciClient.Sha256(blob)), blob);
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
            return OciClient.Sha256(blob);
        });
        var digests = await Task.WhenAll(uploads);

        await Task.Delay(PastTheMoment);
        await using var db = Db.Open();
        Assert.Equal(0, await db.UploadSessions.CountAsync(u => db.Repositories.Any(r => r.Id == u.RepositoryId && r.Name == repository)));
        foreach (var digest in digests)
        {
            using var head = await _oci.SendAsync(HttpMethod.Head, $"/v2/{repository}/blobs/{digest}");
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        }
    }

    [Fact]
    public async Task A_session_whose_repository_is_gone_is_dropped_and_the_others_are_recorded()
    {
        var repository = OciClient.NewRepository("sessions");
        var location = await _oci.StartUploadAsync(repository);
        var orphan = Guid.NewGuid();
        Recorder.Started(new UploadSessionRow { Id = orphan, RepositoryId = 999_999_999, StartedAt = Db.Now() });

        await Recorder.FlushAsync(CancellationToken.None);

        Assert.Equal(0, Recorder.PendingCount);
        Assert.Equal([repository], await SessionRowsAsync(UploadId(location)));
        await using var db = Db.Open();
        Assert.False(await db.UploadSessions.AnyAsync(u => u.Id == orphan));
    }

    [Fact]
    public async Task A_session_goes_on_after_the_server_restarts()
    {
        using var data = new TempDirectory("berth-session-restart");
        var repository = OciClient.NewRepository("sessions");
        var blob = OciClient.RandomBytes(5000);
        string location;
        await using (var first = await BerthHosts.StartServerAsync(data.Path))
        {
            var oci = new OciClient(first.CreateClient());
            location = new Uri(await oci.StartUploadAsync(repository)).PathAndQuery;
            using var patch = await oci.SendAsync(HttpMethod.Patch, location, blob[..2000]);
            Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);
        } // stopped within the moment: the row is written on the way out

        await using var second = await BerthHosts.StartServerAsync(data.Path);
        var again = new OciClient(second.CreateClient());
        using (var put = await again.SendAsync(HttpMethod.Put, OciClient.WithQuery(location, "digest=" + OciClient.Sha256(blob)), blob[2000..]))
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal(blob, await again.Http.GetByteArrayAsync($"/v2/{repository}/blobs/{OciClient.Sha256(blob)}"));
    }

    /// <summary>The repositories of the session rows with this id (none or one).</summary>
    private async Task<List<string>> SessionRowsAsync(Guid uploadId)
    {
        await using var db = Db.Open();
        return await db.UploadSessions.Where(u => u.Id == uploadId)
            .Join(db.Repositories, u => u.RepositoryId, r => r.Id, (_, r) => r.Name).ToListAsync();
    }

    private static Guid UploadId(string location) => Guid.Parse(new Uri(new Uri("http://x"), location).AbsolutePath.Split('/')[^1]);
}
