using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Web;
using Berth.Gateway;
using Berth.Registry.Services;
using Berth.TestSupport;

namespace Berth.EndToEnd.Tests;

/// <summary>
/// <see cref="TwoRegistryInstances"/>: an upload's chunks and its final PUT follow it to
/// the instance that started it, and an instance that knows a session is its own
/// still learns from the store when another instance ended it.
/// </summary>
public sealed class UploadAffinityTests
{
    [SkippableFact]
    public async Task Uploads_stay_on_their_instance_and_a_session_ended_elsewhere_is_unknown_everywhere()
    {
        await using var instances = await TwoRegistryInstances.StartAsync("berth-upload-affinity");
        using var viaGateway = instances.Gateway.CreateClient();

        // Through the Gateway: every chunk and every final PUT lands where its upload started.
        var started = new HashSet<string>();
        for (var i = 0; i < 16; i++)
        {
            var blob = RandomNumberGenerator.GetBytes(40_000 + i);
            var location = await StartAsync(viaGateway, "affinity/app");
            var instance = InstanceOf(location);
            started.Add(instance);
            location = await PatchAsync(viaGateway, location, blob[..20_000], 0);
            Assert.Equal(instance, InstanceOf(location));
            location = await PatchAsync(viaGateway, location, blob[20_000..], 20_000);
            Assert.Equal(instance, InstanceOf(location));
            using (var status = await viaGateway.GetAsync(location))
            {
                Assert.Equal(HttpStatusCode.NoContent, status.StatusCode);
                Assert.Equal(instance, InstanceOf(status.Headers.Location!.ToString()));
            }
            using var put = await viaGateway.PutAsync(WithDigest(location, blob), new ByteArrayContent([]));
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
            Assert.Equal(blob, await viaGateway.GetByteArrayAsync($"/v2/affinity/app/blobs/{ImagePushes.Sha256(blob)}"));
        }
        Assert.Equal(2, started.Count);
        Assert.All(started, token => Assert.Matches("^[0-9a-f]{16}$", token));

        // A Location naming no instance, or one the Gateway does not have, is still served.
        var stray = await StartAsync(viaGateway, "affinity/app");
        var strayPath = new Uri(stray).AbsolutePath;
        var served = await PatchAsync(viaGateway, $"{strayPath}?{UploadAffinity.QueryParameter}=gone", [1, 2, 3], 0);
        Assert.Contains(InstanceOf(served), started);

        using var toFirst = instances.First.CreateClient();
        using var toSecond = instances.Second.CreateClient();

        // Started on the first instance, cancelled through the second: unknown on the first too.
        var cancelled = new Uri(await StartAsync(toFirst, "affinity/app")).AbsolutePath;
        await PatchAsync(toFirst, cancelled, [1, 2, 3], 0);
        using (var delete = await toSecond.DeleteAsync(cancelled)) Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        await AssertUnknownAsync(await toFirst.PatchAsync(cancelled, Chunk([4, 5, 6], 3)));
        await AssertUnknownAsync(await toFirst.GetAsync(cancelled));
        await AssertUnknownAsync(await toFirst.DeleteAsync(cancelled));

        // Started on the first instance, committed through the second: the first refuses it afterwards, and serves the blob.
        var blobOfTwo = RandomNumberGenerator.GetBytes(30_000);
        var committed = new Uri(await StartAsync(toFirst, "affinity/app")).AbsolutePath;
        await PatchAsync(toFirst, committed, blobOfTwo, 0);
        using (var put = await toSecond.PutAsync(WithDigest(committed, blobOfTwo), new ByteArrayContent([]))) Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        await AssertUnknownAsync(await toFirst.PatchAsync(committed, Chunk([7], blobOfTwo.Length)));
        await AssertUnknownAsync(await toFirst.PutAsync(WithDigest(committed, blobOfTwo), new ByteArrayContent([])));
        Assert.Equal(blobOfTwo, await toFirst.GetByteArrayAsync($"/v2/affinity/app/blobs/{ImagePushes.Sha256(blobOfTwo)}"));

        // A session of one repository is not another's, whichever instance started it; an instance
        // that does not know the session says so at once, without waiting for its row to be written.
        await StartAsync(toFirst, "affinity/other");
        var elsewhere = new Uri(await StartAsync(toFirst, "affinity/app")).AbsolutePath;
        await AssertUnknownAsync(await toFirst.PatchAsync(elsewhere.Replace("affinity/app", "affinity/other"), Chunk([1], 0)));
        await Task.Delay(UploadSessionRecorder.LongestWait);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await AssertUnknownAsync(await toSecond.PatchAsync(elsewhere.Replace("affinity/app", "affinity/other"), Chunk([1], 0)));
        Assert.True(clock.Elapsed < UploadSessionRecorder.Delay, $"took {clock.Elapsed}");
        await PatchAsync(toSecond, elsewhere, [1], 0);
    }

    private static async Task<string> StartAsync(HttpClient http, string repository)
    {
        using var response = await http.PostAsync($"/v2/{repository}/blobs/uploads/", new ByteArrayContent([]));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return response.Headers.Location!.ToString();
    }

    private static async Task<string> PatchAsync(HttpClient http, string location, byte[] chunk, long start)
    {
        using var response = await http.PatchAsync(location, Chunk(chunk, start));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return response.Headers.Location!.ToString();
    }

    private static ByteArrayContent Chunk(byte[] chunk, long start)
    {
        var content = new ByteArrayContent(chunk);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Headers.TryAddWithoutValidation("Content-Range", $"{start}-{start + chunk.Length - 1}");
        return content;
    }

    private static string InstanceOf(string location) =>
        HttpUtility.ParseQueryString(new Uri(location).Query)[UploadAffinity.QueryParameter] ?? throw new Xunit.Sdk.XunitException($"no instance named in {location}");

    private static string WithDigest(string location, byte[] blob) =>
        location + (location.Contains('?') ? "&" : "?") + "digest=" + ImagePushes.Sha256(blob);

    private static async Task AssertUnknownAsync(HttpResponseMessage response)
    {
        using (response)
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Contains("BLOB_UPLOAD_UNKNOWN", await response.Content.ReadAsStringAsync());
        }
    }
}
