using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Berth.Registry.Tests;

/// <summary>GET /v2/&lt;name&gt;/tags/list and GET /v2/_catalog, with n/last pagination and Link headers.</summary>
public sealed partial class ListingTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly OciClient _oci = new(fixture.CreateClient());

    [GeneratedRegex("^<(?<url>[^>]+)>; rel=\"next\"$")]
    private static partial Regex NextLink();

    private static readonly string[] TagNames =
        ["b", "A", "a", "Z", "10", "9", "_x", "B-1", "a.b", "a-b", "a_b", "latest", "Latest", "v1.0.0", "v1.0.0-rc1", "v10", "v2", "0"];

    private async Task<string> RepositoryWithTagsAsync(IEnumerable<string> tags)
    {
        var repository = OciClient.NewRepository();
        var manifest = await _oci.NewImageManifestAsync(repository);
        foreach (var tag in tags) await _oci.PutManifestCreatedAsync(repository, tag, manifest, OciClient.OciManifestType);
        return repository;
    }

    /// <summary>One page: the items, and the next link (null on the last page).</summary>
    private async Task<(List<string> Items, string? Next)> GetPageAsync(string url, string property)
    {
        using var response = await _oci.Http.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var items = document.RootElement.GetProperty(property).EnumerateArray().Select(e => e.GetString()!).ToList();
        string? next = null;
        if (response.Headers.TryGetValues("Link", out var links))
        {
            var match = NextLink().Match(Assert.Single(links));
            Assert.True(match.Success, $"Link header is not <url>; rel=\"next\": {string.Join(",", links)}");
            next = match.Groups["url"].Value;
        }
        return (items, next);
    }

    /// <summary>Follows Link headers from <paramref name="url"/> to the end; asserts every page is within <paramref name="pageSize"/>.</summary>
    private async Task<List<string>> FollowAsync(string url, string property, int pageSize)
    {
        var all = new List<string>();
        for (var pages = 0; url is not null; pages++)
        {
            Assert.True(pages < 1000, "pagination does not end");
            var (items, next) = await GetPageAsync(url, property);
            Assert.InRange(items.Count, 0, pageSize);
            if (next is not null) Assert.Equal(pageSize, items.Count);
            all.AddRange(items);
            url = next!;
        }
        return all;
    }

    [Fact]
    public async Task Tags_are_listed_in_ordinal_order()
    {
        var repository = await RepositoryWithTagsAsync(TagNames);
        var (tags, next) = await GetPageAsync($"/v2/{repository}/tags/list", "tags");
        Assert.Equal(TagNames.Order(StringComparer.Ordinal), tags);
        Assert.Null(next);
        // Upper case sorts before lower case.
        Assert.True(tags.IndexOf("Z") < tags.IndexOf("a"));

        using var response = await _oci.Http.GetAsync($"/v2/{repository}/tags/list");
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(repository, document.RootElement.GetProperty("name").GetString());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(7)]
    [InlineData(18)]
    [InlineData(100)]
    public async Task Tags_pagination_follows_link_to_the_end_with_every_tag_once(int n)
    {
        var repository = await RepositoryWithTagsAsync(TagNames);
        var (first, firstNext) = await GetPageAsync($"/v2/{repository}/tags/list?n={n}", "tags");
        Assert.Equal(Math.Min(n, TagNames.Length), first.Count);
        if (n < TagNames.Length) Assert.Equal($"/v2/{repository}/tags/list?n={n}&last={Uri.EscapeDataString(first[^1])}", firstNext);
        else Assert.Null(firstNext);

        var all = await FollowAsync($"/v2/{repository}/tags/list?n={n}", "tags", n);
        Assert.Equal(TagNames.Order(StringComparer.Ordinal), all);
    }

    [Fact]
    public async Task Last_alone_starts_after_that_tag()
    {
        var repository = await RepositoryWithTagsAsync(TagNames);
        var (tags, _) = await GetPageAsync($"/v2/{repository}/tags/list?last=a", "tags");
        Assert.Equal(TagNames.Order(StringComparer.Ordinal).Where(t => string.CompareOrdinal(t, "a") > 0), tags);
        var (none, next) = await GetPageAsync($"/v2/{repository}/tags/list?last=zzz", "tags");
        Assert.Empty(none);
        Assert.Null(next);
    }

    [Fact]
    public async Task N_zero_is_an_empty_page()
    {
        var repository = await RepositoryWithTagsAsync(["a", "b"]);
        var (tags, next) = await GetPageAsync($"/v2/{repository}/tags/list?n=0", "tags");
        Assert.Empty(tags);
        Assert.Null(next);
        var (repositories, catalogNext) = await GetPageAsync("/v2/_catalog?n=0", "repositories");
        Assert.Empty(repositories);
        Assert.Null(catalogNext);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-1")]
    [InlineData("1.5")]
    [InlineData("+3")]
    [InlineData("99999999999999999999")]
    [InlineData("0x10")]
    public async Task Bad_n_is_pagination_number_invalid(string n)
    {
        var repository = await RepositoryWithTagsAsync(["a"]);
        using (var tags = await _oci.Http.GetAsync($"/v2/{repository}/tags/list?n={Uri.EscapeDataString(n)}"))
            await OciClient.AssertErrorAsync(tags, HttpStatusCode.BadRequest, "PAGINATION_NUMBER_INVALID");
        using (var catalog = await _oci.Http.GetAsync($"/v2/_catalog?n={Uri.EscapeDataString(n)}"))
            await OciClient.AssertErrorAsync(catalog, HttpStatusCode.BadRequest, "PAGINATION_NUMBER_INVALID");
    }

    [Fact]
    public async Task Tags_of_an_unknown_repository_is_name_unknown()
    {
        using var response = await _oci.Http.GetAsync($"/v2/{OciClient.NewRepository()}/tags/list");
        await OciClient.AssertErrorAsync(response, HttpStatusCode.NotFound, "NAME_UNKNOWN");
    }

    [Fact]
    public async Task Repository_with_only_deleted_tags_lists_none()
    {
        var repository = await RepositoryWithTagsAsync(["gone"]);
        using (var delete = await _oci.Http.DeleteAsync($"/v2/{repository}/manifests/gone"))
            Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        Assert.Empty(await _oci.ListTagsAsync(repository));
    }

    [Fact]
    public async Task Catalog_lists_repositories_in_ordinal_order_and_paginates()
    {
        // Separators and digits sort between each other in byte order: '-' < '.' < '/' < '0' < '_' < 'a'.
        var prefix = $"cat{Guid.NewGuid():N}"[..16];
        string[] names = [$"{prefix}/a", $"{prefix}/a-b", $"{prefix}/a.b", $"{prefix}/a/b", $"{prefix}/a_b", $"{prefix}/a0", $"{prefix}/b", $"{prefix}-z", $"{prefix}.z", $"{prefix}0"];
        foreach (var name in names) await _oci.PushBlobAsync(name, [1]);

        var (whole, wholeNext) = await GetPageAsync("/v2/_catalog", "repositories");
        Assert.Null(wholeNext);
        Assert.Equal(whole.Order(StringComparer.Ordinal), whole);
        Assert.Equal(whole.Count, whole.Distinct().Count());
        Assert.Equal(names.Order(StringComparer.Ordinal), whole.Where(r => r.StartsWith(prefix, StringComparison.Ordinal)));

        foreach (var n in new[] { 1, 3, whole.Count })
            Assert.Equal(whole, await FollowAsync($"/v2/_catalog?n={n}", "repositories", n));

        var (page, next) = await GetPageAsync("/v2/_catalog?n=2", "repositories");
        Assert.Equal($"/v2/_catalog?n=2&last={Uri.EscapeDataString(page[^1])}", next);

        var (after, _) = await GetPageAsync($"/v2/_catalog?last={Uri.EscapeDataString(names[0])}", "repositories");
        Assert.Equal(whole.Where(r => string.CompareOrdinal(r, names[0]) > 0), after);
    }
}
