using Berth.Registry.Http;
using Berth.Oci;

namespace Berth.Registry.Tests.Unit;

/// <summary>Taking /v2 paths apart: the kind comes from the last segments, everything before is the name.</summary>
public sealed class V2RouteTests
{
    private const string D = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    private const string Id = "0f8fad5bd9cb469fa16570867728950e";

    [Fact]
    public void Empty_path_is_the_api_base()
    {
        Assert.Equal(new V2Route(V2RouteKind.Base, "", ""), V2Route.Parse(""));
    }

    [Fact]
    public void Catalog()
    {
        Assert.Equal(new V2Route(V2RouteKind.Catalog, "", ""), V2Route.Parse("_catalog"));
    }

    [Theory]
    [InlineData("_catalog/")]
    [InlineData("a/_catalog")]
    [InlineData("_catalog/x")]
    [InlineData("_Catalog")]
    [InlineData("_catalog ")]
    public void Anything_else_near_catalog_is_not_the_catalog(string path)
    {
        Assert.NotEqual(V2RouteKind.Catalog, V2Route.Parse(path).Kind);
    }

    [Fact]
    public void Catalog_as_a_repository_name_is_a_tags_route_whose_name_the_grammar_refuses()
    {
        var route = V2Route.Parse("_catalog/tags/list");
        Assert.Equal(new V2Route(V2RouteKind.TagsList, "_catalog", ""), route);
        Assert.False(Names.IsValidRepositoryName(route.Name));
    }

    public static TheoryData<string, V2RouteKind, string, string> Routes => new()
    {
        { "a/tags/list", V2RouteKind.TagsList, "a", "" },
        { "library/ubuntu/tags/list", V2RouteKind.TagsList, "library/ubuntu", "" },
        { "a/manifests/latest", V2RouteKind.Manifest, "a", "latest" },
        { $"a/b/c/manifests/{D}", V2RouteKind.Manifest, "a/b/c", D },
        { $"a/blobs/{D}", V2RouteKind.Blob, "a", D },
        { $"org/repo/blobs/{D}", V2RouteKind.Blob, "org/repo", D },
        { "a/blobs/uploads/", V2RouteKind.UploadStart, "a", "" },
        { "a/blobs/uploads", V2RouteKind.UploadStart, "a", "" },
        { "org/repo/blobs/uploads/", V2RouteKind.UploadStart, "org/repo", "" },
        { $"a/blobs/uploads/{Id}", V2RouteKind.Upload, "a", Id },
        { $"org/repo/blobs/uploads/{Id}", V2RouteKind.Upload, "org/repo", Id },
        { $"a/referrers/{D}", V2RouteKind.Referrers, "a", D },
        { $"org/repo/referrers/{D}", V2RouteKind.Referrers, "org/repo", D },
    };

    [Theory]
    [MemberData(nameof(Routes))]
    public void Every_route_kind(string path, V2RouteKind kind, string name, string argument)
    {
        Assert.Equal(new V2Route(kind, name, argument), V2Route.Parse(path));
    }

    /// <summary>Route words are legal name components; only the last segments decide the kind.</summary>
    public static TheoryData<string, V2RouteKind, string, string> NamesWithRouteWords => new()
    {
        { $"a/blobs/b/blobs/{D}", V2RouteKind.Blob, "a/blobs/b", D },
        { $"blobs/blobs/{D}", V2RouteKind.Blob, "blobs", D },
        { $"a/blobs/uploads/blobs/{D}", V2RouteKind.Blob, "a/blobs/uploads", D },
        { $"a/manifests/blobs/{D}", V2RouteKind.Blob, "a/manifests", D },
        { "a/manifests/b/manifests/latest", V2RouteKind.Manifest, "a/manifests/b", "latest" },
        { "manifests/manifests/manifests", V2RouteKind.Manifest, "manifests", "manifests" },
        { "a/blobs/manifests/latest", V2RouteKind.Manifest, "a/blobs", "latest" },
        { "a/tags/list/manifests/latest", V2RouteKind.Manifest, "a/tags/list", "latest" },
        { "a/manifests/uploads", V2RouteKind.Manifest, "a", "uploads" },
        { "tags/tags/list", V2RouteKind.TagsList, "tags", "" },
        { "a/tags/list/tags/list", V2RouteKind.TagsList, "a/tags/list", "" },
        { "a/manifests/tags/list", V2RouteKind.TagsList, "a/manifests", "" },
        { "uploads/blobs/uploads/", V2RouteKind.UploadStart, "uploads", "" },
        { "blobs/uploads/blobs/uploads/", V2RouteKind.UploadStart, "blobs/uploads", "" },
        { "a/blobs/uploads/blobs/uploads", V2RouteKind.UploadStart, "a/blobs/uploads", "" },
        { $"blobs/uploads/blobs/uploads/{Id}", V2RouteKind.Upload, "blobs/uploads", Id },
        { $"a/tags/blobs/uploads/{Id}", V2RouteKind.Upload, "a/tags", Id },
        { $"a/referrers/b/referrers/{D}", V2RouteKind.Referrers, "a/referrers/b", D },
    };

    [Theory]
    [MemberData(nameof(NamesWithRouteWords))]
    public void Names_may_contain_route_words(string path, V2RouteKind kind, string name, string argument)
    {
        Assert.Equal(new V2Route(kind, name, argument), V2Route.Parse(path));
    }

    [Theory]
    [InlineData("/")]
    [InlineData("a")]
    [InlineData("a/b")]
    [InlineData("a/")]
    [InlineData("tags/list")]
    [InlineData("manifests/latest")]
    [InlineData("blobs/" + D)]
    [InlineData("referrers/" + D)]
    [InlineData("a/blobs")]
    [InlineData("a/manifests")]
    [InlineData("a/tags")]
    [InlineData("a/b/tags")]
    [InlineData("a/tags/lists")]
    [InlineData("a/tags/list/extra")]
    [InlineData("a/blobs/" + D + "/")]
    [InlineData("a/blobs/uploads/" + Id + "/")]
    [InlineData("a/blobs/uploads/" + Id + "/extra")]
    [InlineData("a/unknown/x")]
    [InlineData("a/Blobs/" + D)]
    [InlineData("a/MANIFESTS/latest")]
    [InlineData("v2/")]
    public void Unknown_paths_are_not_found(string path)
    {
        var route = V2Route.Parse(path);
        Assert.Equal(V2RouteKind.NotFound, route.Kind);
        Assert.Equal("", route.Name);
        Assert.Equal("", route.Argument);
    }

    [Fact]
    public void Leading_slash_leaves_an_empty_first_component_for_the_name_check_to_refuse()
    {
        var route = V2Route.Parse("/a/tags/list");
        Assert.Equal(new V2Route(V2RouteKind.TagsList, "/a", ""), route);
        Assert.False(Names.IsValidRepositoryName(route.Name));
    }

    [Fact]
    public void Double_slash_stays_in_the_name_for_the_name_check_to_refuse()
    {
        var route = V2Route.Parse($"a//b/blobs/{D}");
        Assert.Equal(new V2Route(V2RouteKind.Blob, "a//b", D), route);
        Assert.False(Names.IsValidRepositoryName(route.Name));
    }
}
