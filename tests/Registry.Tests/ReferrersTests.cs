using System.Net;
using System.Text.Json;

namespace Berth.Registry.Tests;

/// <summary>GET /v2/&lt;name&gt;/referrers/&lt;digest&gt;.</summary>
public sealed class ReferrersTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private const string Sbom = "application/vnd.example.sbom.v1";
    private const string Signature = "application/vnd.example.signature.v1";

    private readonly OciClient _oci = new(fixture.CreateClient());

    private sealed record Referrer(string MediaType, string Digest, long Size, string? ArtifactType, Dictionary<string, string>? Annotations);

    /// <summary>GETs the referrers index, checks its envelope, and returns its entries.</summary>
    private async Task<(List<Referrer> Entries, string? FiltersApplied)> GetReferrersAsync(string repository, string subject, string? artifactType = null)
    {
        var url = $"/v2/{repository}/referrers/{subject}" + (artifactType is null ? "" : $"?artifactType={Uri.EscapeDataString(artifactType)}");
        using var response = await _oci.Http.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(OciClient.OciIndexType, response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = document.RootElement;
        Assert.Equal(2, root.GetProperty("schemaVersion").GetInt32());
        Assert.Equal(OciClient.OciIndexType, root.GetProperty("mediaType").GetString());
        var entries = root.GetProperty("manifests").EnumerateArray().Select(m => new Referrer(
            m.GetProperty("mediaType").GetString()!,
            m.GetProperty("digest").GetString()!,
            m.GetProperty("size").GetInt64(),
            m.TryGetProperty("artifactType", out var at) ? at.GetString() : null,
            m.TryGetProperty("annotations", out var an) ? an.Deserialize<Dictionary<string, string>>() : null)).ToList();
        return (entries, OciClient.OptionalHeader(response, "OCI-Filters-Applied"));
    }

    private async Task<(byte[] Manifest, string Digest)> PushReferrerAsync(string repository, string subject, string? artifactType)
    {
        var manifest = await _oci.NewImageManifestAsync(repository, subject: subject, artifactType: artifactType);
        var digest = await _oci.PutManifestCreatedAsync(repository, OciClient.Sha256(manifest), manifest, OciClient.OciManifestType);
        return (manifest, digest);
    }

    [Fact]
    public async Task Lists_every_manifest_whose_subject_is_the_digest()
    {
        var repository = OciClient.NewRepository();
        var (_, subject) = await _oci.PushImageAsync(repository, "app");
        var (sbom, sbomDigest) = await PushReferrerAsync(repository, subject, Sbom);
        var (signature, signatureDigest) = await PushReferrerAsync(repository, subject, Signature);
        // Unrelated: a referrer of something else, and a plain image.
        var (_, otherSubject) = await _oci.PushImageAsync(repository, "other");
        await PushReferrerAsync(repository, otherSubject, Sbom);

        var (entries, filters) = await GetReferrersAsync(repository, subject);
        Assert.Null(filters);
        Assert.Equal(2, entries.Count);
        var bySbom = Assert.Single(entries, e => e.Digest == sbomDigest);
        Assert.Equal(OciClient.OciManifestType, bySbom.MediaType);
        Assert.Equal(sbom.Length, bySbom.Size);
        Assert.Equal(Sbom, bySbom.ArtifactType);
        var bySignature = Assert.Single(entries, e => e.Digest == signatureDigest);
        Assert.Equal(signature.Length, bySignature.Size);
        Assert.Equal(Signature, bySignature.ArtifactType);
    }

    [Fact]
    public async Task Artifact_type_filter_is_applied_and_announced()
    {
        var repository = OciClient.NewRepository();
        var (_, subject) = await _oci.PushImageAsync(repository, "app");
        var (_, sbomDigest) = await PushReferrerAsync(repository, subject, Sbom);
        await PushReferrerAsync(repository, subject, Signature);

        var (entries, filters) = await GetReferrersAsync(repository, subject, Sbom);
        Assert.Equal("artifactType", filters);
        var only = Assert.Single(entries);
        Assert.Equal(sbomDigest, only.Digest);
        Assert.Equal(Sbom, only.ArtifactType);

        var (none, noneFilters) = await GetReferrersAsync(repository, subject, "application/vnd.example.nothing");
        Assert.Equal("artifactType", noneFilters);
        Assert.Empty(none);
    }

    [Fact]
    public async Task Without_an_artifact_type_the_config_media_type_is_reported()
    {
        var repository = OciClient.NewRepository();
        var (_, subject) = await _oci.PushImageAsync(repository, "app");
        var (_, digest) = await PushReferrerAsync(repository, subject, artifactType: null);
        var (entries, _) = await GetReferrersAsync(repository, subject);
        var entry = Assert.Single(entries);
        Assert.Equal(digest, entry.Digest);
        Assert.Equal("application/vnd.oci.image.config.v1+json", entry.ArtifactType);
    }

    [Fact]
    public async Task Annotations_of_the_referrer_are_included()
    {
        var repository = OciClient.NewRepository();
        var (_, subject) = await _oci.PushImageAsync(repository, "app");
        var (config, configSize, layer, layerSize) = await _oci.PushConfigAndLayerAsync(repository);
        var manifest = JsonSerializer.SerializeToUtf8Bytes(new
        {
            schemaVersion = 2,
            mediaType = OciClient.OciManifestType,
            artifactType = Sbom,
            config = new { mediaType = "application/vnd.oci.empty.v1+json", digest = config, size = configSize },
            layers = new[] { new { mediaType = "application/spdx+json", digest = layer, size = layerSize } },
            subject = new { mediaType = OciClient.OciManifestType, digest = subject, size = 100 },
            annotations = new Dictionary<string, string> { ["org.opencontainers.image.created"] = "2026-01-01T00:00:00Z" },
        });
        await _oci.PutManifestCreatedAsync(repository, OciClient.Sha256(manifest), manifest, OciClient.OciManifestType);
        var entry = Assert.Single((await GetReferrersAsync(repository, subject)).Entries);
        Assert.Equal("2026-01-01T00:00:00Z", entry.Annotations?["org.opencontainers.image.created"]);
    }

    [Fact]
    public async Task Referrer_may_be_pushed_before_its_subject()
    {
        var repository = OciClient.NewRepository();
        var subject = OciClient.Sha256(OciClient.RandomBytes(64));
        var (_, digest) = await PushReferrerAsync(repository, subject, Sbom);
        Assert.Equal(digest, Assert.Single((await GetReferrersAsync(repository, subject)).Entries).Digest);
    }

    [Fact]
    public async Task Index_with_a_subject_is_listed_too()
    {
        var repository = OciClient.NewRepository();
        var (_, subject) = await _oci.PushImageAsync(repository, "app");
        var child = await _oci.NewImageManifestAsync(repository);
        var childDigest = await _oci.PutManifestCreatedAsync(repository, OciClient.Sha256(child), child, OciClient.OciManifestType);
        var index = JsonSerializer.SerializeToUtf8Bytes(new
        {
            schemaVersion = 2,
            mediaType = OciClient.OciIndexType,
            artifactType = Signature,
            manifests = new[] { new { mediaType = OciClient.OciManifestType, digest = childDigest, size = child.Length } },
            subject = new { mediaType = OciClient.OciManifestType, digest = subject, size = 100 },
        });
        using (var put = await _oci.PutManifestAsync(repository, OciClient.Sha256(index), index, OciClient.OciIndexType))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
            Assert.Equal(subject, OciClient.Header(put, "OCI-Subject"));
        }
        var entry = Assert.Single((await GetReferrersAsync(repository, subject)).Entries);
        Assert.Equal(OciClient.OciIndexType, entry.MediaType);
        Assert.Equal(OciClient.Sha256(index), entry.Digest);
        Assert.Equal(index.Length, entry.Size);
        Assert.Equal(Signature, entry.ArtifactType);
    }

    [Fact]
    public async Task Deleted_referrer_is_no_longer_listed()
    {
        var repository = OciClient.NewRepository();
        var (_, subject) = await _oci.PushImageAsync(repository, "app");
        var (_, gone) = await PushReferrerAsync(repository, subject, Sbom);
        var (_, kept) = await PushReferrerAsync(repository, subject, Signature);
        using (var delete = await _oci.Http.DeleteAsync($"/v2/{repository}/manifests/{gone}"))
            Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        Assert.Equal(kept, Assert.Single((await GetReferrersAsync(repository, subject)).Entries).Digest);
    }

    [Fact]
    public async Task Unknown_digest_is_an_empty_index()
    {
        var repository = OciClient.NewRepository();
        await _oci.PushImageAsync(repository, "app");
        var (entries, _) = await GetReferrersAsync(repository, OciClient.Sha256(OciClient.RandomBytes(10)));
        Assert.Empty(entries);
        // A repository nobody pushed to answers the same way: the referrers API never 404s.
        Assert.Empty((await GetReferrersAsync(OciClient.NewRepository(), OciClient.Sha256([1]))).Entries);
    }

    [Theory]
    [InlineData("latest")]
    [InlineData("sha256:short")]
    [InlineData("sha1:da39a3ee5e6b4b0d3255bfef95601890afd80709")]
    public async Task Malformed_digest_is_400(string digest)
    {
        var repository = OciClient.NewRepository();
        await _oci.PushImageAsync(repository, "app");
        using var response = await _oci.Http.GetAsync($"/v2/{repository}/referrers/{digest}");
        await OciClient.AssertErrorAsync(response, HttpStatusCode.BadRequest, "DIGEST_INVALID");
    }
}
