using System.Net;
using System.Text;
using Berth.Registry.Api.V1;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Web;

namespace Berth.Registry.Tests;

/// <summary>The management API through the generated gRPC client over gRPC-Web (HTTP/1.1, as the Server serves it).</summary>
public sealed class GrpcApiTests : IClassFixture<ServerFixture>, IDisposable
{
    private readonly OciClient _oci;
    private readonly GrpcChannel _channel;
    private readonly RegistryService.RegistryServiceClient _client;

    public GrpcApiTests(ServerFixture fixture)
    {
        _oci = new OciClient(fixture.CreateClient());
        _channel = GrpcChannel.ForAddress(fixture.Server.BaseAddress, new GrpcChannelOptions
        {
            HttpHandler = new GrpcWebHandler(GrpcWebMode.GrpcWeb, new HttpClientHandler()),
            HttpVersion = HttpVersion.Version11,
        });
        _client = new RegistryService.RegistryServiceClient(_channel);
    }

    public void Dispose() => _channel.Dispose();

    private async Task<(string Repository, string Digest, byte[] Manifest)> SeedAsync()
    {
        var repository = OciClient.NewRepository("grpc");
        var (manifest, digest) = await _oci.PushImageAsync(repository, "v1");
        await _oci.PutManifestCreatedAsync(repository, "v2", manifest, OciClient.OciManifestType);
        return (repository, digest, manifest);
    }

    [Fact]
    public async Task List_and_get_repositories()
    {
        var (repository, _, _) = await SeedAsync();
        var list = await _client.ListRepositoriesAsync(new ListRepositoriesRequest { PageSize = 1000 });
        var listed = Assert.Single(list.Repositories, r => r.Name == repository);
        Assert.Equal(2, listed.TagCount);
        Assert.Equal("", list.NextPageToken);

        var described = await _client.GetRepositoryAsync(new GetRepositoryRequest { Name = repository });
        Assert.Equal(repository, described.Name);
        Assert.Equal(2, described.TagCount);
        Assert.Equal(1, described.ManifestCount);
        Assert.True(described.SizeBytes > 1024);
        Assert.InRange(described.CreatedAt.ToDateTime(), DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddMinutes(1));
    }

    [Fact]
    public async Task List_repositories_pages()
    {
        await SeedAsync();
        await SeedAsync();
        var all = (await _client.ListRepositoriesAsync(new ListRepositoriesRequest { PageSize = 1000 })).Repositories.Select(r => r.Name).ToList();
        var paged = new List<string>();
        var request = new ListRepositoriesRequest { PageSize = 1 };
        while (true)
        {
            var page = await _client.ListRepositoriesAsync(request);
            Assert.InRange(page.Repositories.Count, 0, 1);
            paged.AddRange(page.Repositories.Select(r => r.Name));
            if (page.NextPageToken.Length == 0) break;
            request.PageToken = page.NextPageToken;
        }
        Assert.Equal(all, paged);
    }

    [Fact]
    public async Task List_tags_and_history()
    {
        var (repository, digest, _) = await SeedAsync();
        var moved = await _oci.NewImageManifestAsync(repository);
        var movedDigest = await _oci.PutManifestCreatedAsync(repository, "v1", moved, OciClient.OciManifestType);

        var live = await _client.ListTagsAsync(new ListTagsRequest { Repository = repository });
        Assert.Equal([("v1", movedDigest), ("v2", digest)], live.Tags.Select(t => (t.Name, t.ManifestDigest)));
        Assert.All(live.Tags, t => Assert.True(t.Live));
        Assert.All(live.Tags, t => Assert.Null(t.EndedAt));

        var history = await _client.ListTagsAsync(new ListTagsRequest { Repository = repository, IncludeHistory = true });
        Assert.Equal([("v1", movedDigest, true), ("v1", digest, false), ("v2", digest, true)], history.Tags.Select(t => (t.Name, t.ManifestDigest, t.Live)));
        Assert.Equal(history.Tags[0].StartedAt, history.Tags[1].EndedAt);
    }

    [Fact]
    public async Task Get_manifest()
    {
        var (repository, digest, manifest) = await SeedAsync();
        var byTag = await _client.GetManifestAsync(new GetManifestRequest { Repository = repository, Reference = "v2" });
        Assert.Equal(digest, byTag.Digest);
        Assert.Equal(OciClient.OciManifestType, byTag.MediaType);
        Assert.Equal(Encoding.UTF8.GetString(manifest), byTag.Content);
        Assert.Equal(manifest.Length, byTag.SizeBytes);
        Assert.Equal(["v1", "v2"], byTag.Tags);
        Assert.Equal(2, byTag.References.Count);
        Assert.NotNull(byTag.PushedAt);
        Assert.InRange(byTag.PushedAt.ToDateTime(), DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddMinutes(1));

        var byDigest = await _client.GetManifestAsync(new GetManifestRequest { Repository = repository, Reference = digest });
        Assert.Equal(byTag, byDigest);
    }

    [Fact]
    public async Task Delete_tag()
    {
        var (repository, digest, _) = await SeedAsync();
        var deleted = await _client.DeleteTagAsync(new DeleteTagRequest { Repository = repository, Tag = "v1" });
        Assert.Equal(digest, deleted.ManifestDigest);
        Assert.Equal(["v2"], await _oci.ListTagsAsync(repository));
        var again = await Assert.ThrowsAsync<RpcException>(async () => await _client.DeleteTagAsync(new DeleteTagRequest { Repository = repository, Tag = "v1" }));
        Assert.Equal(StatusCode.NotFound, again.StatusCode);
    }

    [Fact]
    public async Task Errors_map_to_status_codes()
    {
        var (repository, digest, _) = await SeedAsync();
        async Task<StatusCode> StatusOf(Func<Task> call) => (await Assert.ThrowsAsync<RpcException>(call)).StatusCode;

        Assert.Equal(StatusCode.NotFound, await StatusOf(async () => await _client.GetRepositoryAsync(new GetRepositoryRequest { Name = OciClient.NewRepository() })));
        Assert.Equal(StatusCode.InvalidArgument, await StatusOf(async () => await _client.GetRepositoryAsync(new GetRepositoryRequest { Name = "Bad//Name" })));
        Assert.Equal(StatusCode.InvalidArgument, await StatusOf(async () => await _client.GetRepositoryAsync(new GetRepositoryRequest())));
        Assert.Equal(StatusCode.NotFound, await StatusOf(async () => await _client.ListTagsAsync(new ListTagsRequest { Repository = OciClient.NewRepository() })));
        Assert.Equal(StatusCode.NotFound, await StatusOf(async () => await _client.GetManifestAsync(new GetManifestRequest { Repository = repository, Reference = "nope" })));
        Assert.Equal(StatusCode.InvalidArgument, await StatusOf(async () => await _client.GetManifestAsync(new GetManifestRequest { Repository = repository })));
        Assert.Equal(StatusCode.InvalidArgument, await StatusOf(async () => await _client.GetManifestAsync(new GetManifestRequest { Repository = repository, Reference = "-bad" })));
        Assert.Equal(StatusCode.InvalidArgument, await StatusOf(async () => await _client.DeleteTagAsync(new DeleteTagRequest { Repository = repository, Tag = digest })));
        Assert.Equal(StatusCode.InvalidArgument, await StatusOf(async () => await _client.DeleteTagAsync(new DeleteTagRequest { Repository = repository, Tag = "" })));
        Assert.Equal(["v1", "v2"], await _oci.ListTagsAsync(repository));
    }
}
