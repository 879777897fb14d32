using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

// Fills any OCI registry for the garbage-collection benchmark: REPOS repositories
// with MANIFESTS images each, every image of BLOBS unique small blobs (a config and
// layers), each image tagged; then untags all but the newest KEEP images of each
// repository, by tag (DELETE /manifests/<tag>) or, for registries that cannot
// delete tags, by digest. Prints what it pushed and removed as one JSON line.
//
// Usage: gcfill URL [--repos 100] [--manifests 200] [--blobs 5] [--keep 40]
//        [--untag tag|digest] [--concurrency 8] [--blob-size 256] [--prefix gc]
var options = Options.Parse(args);
using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = options.Concurrency * 2 })
{
    BaseAddress = new Uri(options.Url),
    Timeout = TimeSpan.FromMinutes(2),
};

var pushWatch = Stopwatch.StartNew();
var images = new List<(string Repository, string Tag, string Digest)>[options.Repos];
var blobsPushed = 0;
await Parallel.ForEachAsync(Enumerable.Range(0, options.Repos * options.Manifests),
    new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency }, async (index, cancellationToken) =>
    {
        var repo = index / options.Manifests;
        var repository = $"{options.Prefix}/repo{repo:D4}";
        var tag = $"t{index % options.Manifests:D5}";
        var layers = new List<(string Digest, int Size)>();
        for (var b = 0; b < options.Blobs; b++)
        {
            var blob = RandomNumberGenerator.GetBytes(options.BlobSize);
            layers.Add((await PushBlobAsync(repository, blob, cancellationToken), blob.Length));
            Interlocked.Increment(ref blobsPushed);
        }
        var manifest = JsonSerializer.SerializeToUtf8Bytes(new
        {
            schemaVersion = 2,
            mediaType = "application/vnd.oci.image.manifest.v1+json",
            config = new { mediaType = "application/vnd.oci.image.config.v1+json", digest = layers[0].Digest, size = layers[0].Size },
            layers = layers.Skip(1).Select(l => new { mediaType = "application/vnd.oci.image.layer.v1.tar+gzip", digest = l.Digest, size = l.Size }).ToArray(),
        });
        var content = new ByteArrayContent(manifest);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/vnd.oci.image.manifest.v1+json");
        using var response = await http.PutAsync($"/v2/{repository}/manifests/{tag}", content, cancellationToken);
        Require(response, HttpStatusCode.Created, $"PUT manifest {repository}:{tag}");
        lock (images)
            (images[repo] ??= []).Add((repository, tag, "sha256:" + Convert.ToHexStringLower(SHA256.HashData(manifest))));
    });
var pushSeconds = pushWatch.Elapsed.TotalSeconds;

var untagWatch = Stopwatch.StartNew();
var doomed = images.SelectMany(list => list.OrderBy(i => i.Tag, StringComparer.Ordinal).SkipLast(options.Keep)).ToList();
await Parallel.ForEachAsync(doomed, new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency }, async (image, cancellationToken) =>
{
    var reference = options.Untag == "tag" ? image.Tag : image.Digest;
    using var response = await http.DeleteAsync($"/v2/{image.Repository}/manifests/{reference}", cancellationToken);
    Require(response, HttpStatusCode.Accepted, $"DELETE {image.Repository}:{reference}");
});

Console.WriteLine(JsonSerializer.Serialize(new
{
    repositories = options.Repos,
    manifests = options.Repos * options.Manifests,
    blobs = blobsPushed,
    untagged = doomed.Count,
    garbage_blobs = doomed.Count * options.Blobs,
    push_seconds = Math.Round(pushSeconds, 1),
    blobs_per_second = Math.Round(blobsPushed / pushSeconds),
    untag_seconds = Math.Round(untagWatch.Elapsed.TotalSeconds, 1),
}));
return 0;

async Task<string> PushBlobAsync(string repository, byte[] blob, CancellationToken cancellationToken)
{
    var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(blob));
    // Two requests (POST, then PUT ?digest=) rather than a one-request POST ?digest=, which not every registry implements.
    using var start = await http.PostAsync($"/v2/{repository}/blobs/uploads/", null, cancellationToken);
    Require(start, HttpStatusCode.Accepted, $"POST upload to {repository}");
    var location = start.Headers.Location ?? throw new InvalidOperationException("upload without a Location");
    var target = location.ToString() + (location.ToString().Contains('?') ? "&" : "?") + "digest=" + digest;
    using var finish = await http.PutAsync(target, new ByteArrayContent(blob), cancellationToken);
    Require(finish, HttpStatusCode.Created, $"PUT blob {digest}");
    return digest;
}

static void Require(HttpResponseMessage response, HttpStatusCode expected, string what)
{
    if (response.StatusCode != expected)
        throw new InvalidOperationException($"{what}: {(int)response.StatusCode} {response.Content.ReadAsStringAsync().Result}");
}

internal sealed record Options(string Url, int Repos, int Manifests, int Blobs, int Keep, string Untag, int Concurrency, int BlobSize, string Prefix)
{
    public static Options Parse(string[] args)
    {
        if (args.Length == 0 || args[0].StartsWith("--", StringComparison.Ordinal))
            throw new ArgumentException("usage: gcfill URL [--repos N] [--manifests N] [--blobs N] [--keep N] [--untag tag|digest] [--concurrency N] [--blob-size N] [--prefix P]");
        var values = new Dictionary<string, string>();
        for (var i = 1; i + 1 < args.Length; i += 2) values[args[i].TrimStart('-')] = args[i + 1];
        int Int(string name, int fallback) => values.TryGetValue(name, out var v) ? int.Parse(v) : fallback;
        var untag = values.GetValueOrDefault("untag", "tag");
        if (untag is not ("tag" or "digest")) throw new ArgumentException("--untag must be 'tag' or 'digest'");
        return new Options(args[0], Int("repos", 100), Int("manifests", 200), Int("blobs", 5), Int("keep", 40), untag,
            Int("concurrency", 8), Int("blob-size", 256), values.GetValueOrDefault("prefix", "gc"));
    }
}
