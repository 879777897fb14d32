using System.Text;
using Berth.Oci;

namespace Berth.Registry.Tests.Unit;

/// <summary>What the parser accepts from each of the four manifest kinds, and every way it refuses with MANIFEST_INVALID.</summary>
public sealed class ManifestParserTests
{
    private static readonly Digest ConfigDigest = Digest.Compute("config"u8);
    private static readonly Digest LayerDigest = Digest.Compute("layer"u8);
    private static readonly Digest ForeignDigest = Digest.Compute("foreign"u8);
    private static readonly Digest ChildDigest = Digest.Compute("child"u8);
    private static readonly Digest SubjectDigest = Digest.Compute("subject"u8);

    private const string OciConfig = "application/vnd.oci.image.config.v1+json";
    private const string OciLayer = "application/vnd.oci.image.layer.v1.tar+gzip";
    private const string OciForeignLayer = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
    private const string DockerConfig = "application/vnd.docker.container.image.v1+json";
    private const string DockerLayer = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    private const string DockerForeignLayer = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

    private static ParsedManifest Parse(string json, string? contentType = null) =>
        ManifestParser.Parse(Encoding.UTF8.GetBytes(json), contentType);

    private static RegistryException Refused(string json, string? contentType = null)
    {
        var error = Assert.Throws<RegistryException>(() => Parse(json, contentType));
        Assert.Equal(ErrorCode.ManifestInvalid, error.Code);
        Assert.Equal(400, error.Status);
        return error;
    }

    private static string Descriptor(string mediaType, Digest digest, long size, string extra = "") =>
        $$"""{"mediaType":"{{mediaType}}","digest":"{{digest}}","size":{{size}}{{extra}}}""";

    /// <summary>An image manifest whose config (or another part) can be replaced by raw JSON.</summary>
    private static string ImageManifest(string? mediaType = MediaTypes.OciManifest, string? config = null, string? layers = null, string schemaVersion = "2", string extra = "")
    {
        var mediaTypeProperty = mediaType is null ? "" : $"\"mediaType\":\"{mediaType}\",";
        config ??= Descriptor(OciConfig, ConfigDigest, 6);
        layers ??= $"[{Descriptor(OciLayer, LayerDigest, 5)}]";
        return $$"""{"schemaVersion":{{schemaVersion}},{{mediaTypeProperty}}"config":{{config}},"layers":{{layers}}{{extra}}}""";
    }

    private static string Index(string? mediaType = MediaTypes.OciIndex, string? manifests = null, string extra = "")
    {
        var mediaTypeProperty = mediaType is null ? "" : $"\"mediaType\":\"{mediaType}\",";
        manifests ??= $"[{Descriptor(MediaTypes.OciManifest, ChildDigest, 5)}]";
        return $$"""{"schemaVersion":2,{{mediaTypeProperty}}"manifests":{{manifests}}{{extra}}}""";
    }

    [Fact]
    public void Oci_image_manifest_with_everything()
    {
        var json = $$"""
        {
          "schemaVersion": 2,
          "mediaType": "{{MediaTypes.OciManifest}}",
          "artifactType": "application/vnd.example.sbom",
          "config": {{Descriptor(OciConfig, ConfigDigest, 6)}},
          "layers": [
            {{Descriptor(OciLayer, LayerDigest, 5)}},
            {{Descriptor(OciForeignLayer, ForeignDigest, 7, ",\"urls\":[\"https://example.com/layer.tgz\"]")}}
          ],
          "subject": {{Descriptor(MediaTypes.OciManifest, SubjectDigest, 7)}},
          "annotations": { "org.opencontainers.image.created": "2024-01-01T00:00:00Z", "com.example.n": 5 }
        }
        """;
        var parsed = Parse(json, MediaTypes.OciManifest);

        Assert.Equal(MediaTypes.OciManifest, parsed.MediaType);
        Assert.False(parsed.IsIndex);
        Assert.Equal("application/vnd.example.sbom", parsed.ArtifactType);
        Assert.Equal("application/vnd.example.sbom", parsed.EffectiveArtifactType);
        Assert.Equal(new ContentDescriptor(OciConfig, ConfigDigest, 6), parsed.Config);
        Assert.Equal(2, parsed.Layers.Count);
        Assert.Equal(OciLayer, parsed.Layers[0].MediaType);
        Assert.Equal(LayerDigest, parsed.Layers[0].Digest);
        Assert.Equal(5, parsed.Layers[0].Size);
        Assert.False(parsed.Layers[0].IsForeign);
        Assert.True(parsed.Layers[1].IsForeign);
        Assert.Equal(["https://example.com/layer.tgz"], parsed.Layers[1].Urls!);
        Assert.Empty(parsed.Children);
        Assert.Equal(SubjectDigest, parsed.Subject!.Digest);
        Assert.Equal(MediaTypes.OciManifest, parsed.Subject.MediaType);
        Assert.Equal(7, parsed.Subject.Size);
        // Non-string annotation values are dropped, string ones kept.
        Assert.Equal(new Dictionary<string, string> { ["org.opencontainers.image.created"] = "2024-01-01T00:00:00Z" }, parsed.Annotations);
        Assert.Equal([ConfigDigest, LayerDigest], parsed.RequiredBlobs.Select(d => d.Digest));
    }

    [Fact]
    public void Oci_image_manifest_without_artifact_type_reports_the_config_media_type()
    {
        var parsed = Parse(ImageManifest());
        Assert.Null(parsed.ArtifactType);
        Assert.Equal(OciConfig, parsed.EffectiveArtifactType);
        Assert.Null(parsed.Subject);
        Assert.Null(parsed.Annotations);
    }

    [Fact]
    public void Oci_image_manifest_with_no_layers_needs_only_its_config()
    {
        var parsed = Parse(ImageManifest(layers: "[]"));
        Assert.Empty(parsed.Layers);
        Assert.Equal([ConfigDigest], parsed.RequiredBlobs.Select(d => d.Digest));
    }

    [Fact]
    public void Oci_index_with_everything()
    {
        var children = $$"""
        [
          {{Descriptor(MediaTypes.OciManifest, ChildDigest, 5, ",\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}")}},
          {{Descriptor(MediaTypes.OciIndex, LayerDigest, 9)}},
          {{Descriptor("application/vnd.example.artifact+json", ConfigDigest, 3, ",\"artifactType\":\"application/vnd.example\"")}}
        ]
        """;
        var extra = $$""","artifactType":"application/vnd.example.index","subject":{{Descriptor(MediaTypes.OciManifest, SubjectDigest, 7)}},"annotations":{"a":"b"}""";
        var parsed = Parse(Index(manifests: children, extra: extra), MediaTypes.OciIndex);

        Assert.Equal(MediaTypes.OciIndex, parsed.MediaType);
        Assert.True(parsed.IsIndex);
        Assert.Null(parsed.Config);
        Assert.Empty(parsed.Layers);
        Assert.Empty(parsed.RequiredBlobs);
        Assert.Equal([ChildDigest, LayerDigest, ConfigDigest], parsed.Children.Select(c => c.Digest));
        Assert.Equal(new Platform("linux", "arm64", "v8"), parsed.Children[0].Platform);
        Assert.Null(parsed.Children[1].Platform);
        Assert.Equal("application/vnd.example", parsed.Children[2].ArtifactType);
        Assert.Equal("application/vnd.example.index", parsed.ArtifactType);
        Assert.Equal(SubjectDigest, parsed.Subject!.Digest);
        Assert.Equal(new Dictionary<string, string> { ["a"] = "b" }, parsed.Annotations);
    }

    [Fact]
    public void Docker_manifest_with_foreign_layer()
    {
        var layers = $$"""
        [
          {{Descriptor(DockerForeignLayer, ForeignDigest, 7, ",\"urls\":[\"https://mcr.microsoft.com/layer\"]")}},
          {{Descriptor(DockerLayer, LayerDigest, 5)}}
        ]
        """;
        var parsed = Parse(ImageManifest(MediaTypes.DockerManifest, Descriptor(DockerConfig, ConfigDigest, 6), layers), MediaTypes.DockerManifest);

        Assert.Equal(MediaTypes.DockerManifest, parsed.MediaType);
        Assert.False(parsed.IsIndex);
        Assert.Equal(DockerConfig, parsed.Config!.MediaType);
        Assert.Equal([ForeignDigest, LayerDigest], parsed.Layers.Select(l => l.Digest));
        Assert.True(parsed.Layers[0].IsForeign);
        Assert.Equal([ConfigDigest, LayerDigest], parsed.RequiredBlobs.Select(d => d.Digest));
        Assert.DoesNotContain(ForeignDigest, parsed.RequiredBlobs.Select(d => d.Digest));
    }

    [Fact]
    public void Layer_with_empty_urls_is_not_foreign()
    {
        var layers = $"[{Descriptor(OciLayer, LayerDigest, 5, ",\"urls\":[]")}]";
        var parsed = Parse(ImageManifest(layers: layers));
        Assert.False(parsed.Layers[0].IsForeign);
        Assert.Contains(LayerDigest, parsed.RequiredBlobs.Select(d => d.Digest));
    }

    [Fact]
    public void Docker_manifest_list()
    {
        var children = $$"""
        [
          {{Descriptor(MediaTypes.DockerManifest, ChildDigest, 5, ",\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}")}},
          {{Descriptor(MediaTypes.DockerManifest, LayerDigest, 6, ",\"platform\":{\"os\":\"windows\",\"architecture\":\"amd64\"}")}}
        ]
        """;
        var parsed = Parse(Index(MediaTypes.DockerManifestList, children), MediaTypes.DockerManifestList);

        Assert.Equal(MediaTypes.DockerManifestList, parsed.MediaType);
        Assert.True(parsed.IsIndex);
        Assert.Equal([ChildDigest, LayerDigest], parsed.Children.Select(c => c.Digest));
        Assert.Equal(new Platform("linux", "amd64", null), parsed.Children[0].Platform);
        Assert.Equal("windows", parsed.Children[1].Platform!.Os);
        Assert.Empty(parsed.RequiredBlobs);
    }

    [Fact]
    public void Index_entry_that_is_not_a_manifest_is_refused()
    {
        var children = $"[{Descriptor(OciLayer, LayerDigest, 5)}]";
        Refused(Index(manifests: children));
    }

    [Fact]
    public void Content_type_that_contradicts_media_type_is_refused()
    {
        var error = Refused(ImageManifest(MediaTypes.OciManifest), MediaTypes.DockerManifest);
        Assert.Contains(MediaTypes.DockerManifest, error.Message);
        Refused(Index(MediaTypes.OciIndex), MediaTypes.OciManifest);
        Refused(Index(MediaTypes.DockerManifestList), MediaTypes.OciIndex);
    }

    [Theory]
    [InlineData(MediaTypes.OciManifest + "; charset=utf-8")]
    [InlineData(" " + MediaTypes.OciManifest + " ")]
    [InlineData("application/json")]
    [InlineData("application/octet-stream")]
    [InlineData("")]
    [InlineData(null)]
    public void Content_type_that_agrees_or_is_generic_is_accepted(string? contentType)
    {
        Assert.Equal(MediaTypes.OciManifest, Parse(ImageManifest(MediaTypes.OciManifest), contentType).MediaType);
    }

    [Fact]
    public void Content_type_decides_when_media_type_is_absent()
    {
        Assert.Equal(MediaTypes.DockerManifest, Parse(ImageManifest(mediaType: null), MediaTypes.DockerManifest).MediaType);
        Assert.Equal(MediaTypes.OciManifest, Parse(ImageManifest(mediaType: null), MediaTypes.OciManifest).MediaType);
        Assert.Equal(MediaTypes.DockerManifestList, Parse(Index(mediaType: null), MediaTypes.DockerManifestList + ";q=1").MediaType);
    }

    [Fact]
    public void Content_type_of_an_index_on_an_image_manifest_without_media_type_is_refused()
    {
        // The header says index, so the body needs a manifests array it does not have.
        Refused(ImageManifest(mediaType: null), MediaTypes.OciIndex);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("application/json")]
    [InlineData("application/octet-stream")]
    public void Structure_decides_when_neither_says(string? contentType)
    {
        var image = Parse(ImageManifest(mediaType: null), contentType);
        Assert.Equal(MediaTypes.OciManifest, image.MediaType);
        Assert.Equal(ConfigDigest, image.Config!.Digest);

        var index = Parse(Index(mediaType: null), contentType);
        Assert.Equal(MediaTypes.OciIndex, index.MediaType);
        Assert.Equal([ChildDigest], index.Children.Select(c => c.Digest));
    }

    [Fact]
    public void Neither_media_type_nor_structure_is_refused()
    {
        Refused("""{"schemaVersion":2}""");
        Refused("""{"schemaVersion":2,"layers":[]}""", "application/json");
    }

    [Fact]
    public void Unsupported_media_type_is_refused()
    {
        Refused(ImageManifest("application/vnd.example.thing+json"));
        Refused(ImageManifest(mediaType: null), "text/plain");
        Refused(ImageManifest("application/json"));
    }

    [Fact]
    public void Schema1_is_refused_by_media_type()
    {
        var json = """{"schemaVersion":1,"mediaType":"application/vnd.docker.distribution.manifest.v1+json","name":"a","tag":"b","fsLayers":[],"history":[]}""";
        Assert.Contains("schema 1", Refused(json).Message);
    }

    [Fact]
    public void Schema1_is_refused_by_content_type()
    {
        var json = """{"schemaVersion":1,"name":"a","tag":"b","fsLayers":[],"history":[],"signatures":[]}""";
        Assert.Contains("schema 1", Refused(json, MediaTypes.DockerSchema1Signed).Message);
        Assert.Contains("schema 1", Refused(json, MediaTypes.DockerSchema1).Message);
    }

    [Fact]
    public void Schema1_is_refused_by_structure()
    {
        var json = """{"schemaVersion":1,"name":"a","tag":"b","architecture":"amd64","fsLayers":[{"blobSum":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}],"history":[]}""";
        Assert.Contains("schema 1", Refused(json).Message);
        Assert.Contains("schema 1", Refused(json, "application/json").Message);
    }

    [Fact]
    public void Schema_version_1_with_a_schema2_media_type_is_refused()
    {
        Assert.Contains("schema 1", Refused(ImageManifest(schemaVersion: "1")).Message);
    }

    [Theory]
    [InlineData("3")]
    [InlineData("0")]
    [InlineData("-2")]
    [InlineData("2.5")]
    [InlineData("\"2\"")]
    [InlineData("null")]
    [InlineData("99999999999999999999")]
    public void Schema_version_other_than_2_is_refused(string schemaVersion)
    {
        Refused(ImageManifest(schemaVersion: schemaVersion));
    }

    [Fact]
    public void Missing_schema_version_is_refused()
    {
        var json = $$"""{"mediaType":"{{MediaTypes.OciManifest}}","config":{{Descriptor(OciConfig, ConfigDigest, 6)}},"layers":[]}""";
        Assert.Contains("schemaVersion", Refused(json).Message);
    }

    [Fact]
    public void Schema_version_3_index_is_refused()
    {
        var json = $$"""{"schemaVersion":3,"mediaType":"{{MediaTypes.OciIndex}}","manifests":[]}""";
        Refused(json);
    }

    public static TheoryData<string> BadDescriptors =>
    [
        $$"""{"mediaType":"{{OciConfig}}","digest":"{{ConfigDigest}}"}""",
        $$"""{"mediaType":"{{OciConfig}}","digest":"{{ConfigDigest}}","size":-1}""",
        $$"""{"mediaType":"{{OciConfig}}","digest":"{{ConfigDigest}}","size":1.5}""",
        $$"""{"mediaType":"{{OciConfig}}","digest":"{{ConfigDigest}}","size":"6"}""",
        $$"""{"mediaType":"{{OciConfig}}","digest":"{{ConfigDigest}}","size":null}""",
        $$"""{"mediaType":"{{OciConfig}}","digest":"{{ConfigDigest}}","size":99999999999999999999}""",
        $$"""{"mediaType":"{{OciConfig}}","size":6}""",
        $$"""{"mediaType":"{{OciConfig}}","digest":null,"size":6}""",
        $$"""{"mediaType":"{{OciConfig}}","digest":"sha256:abc","size":6}""",
        $$"""{"mediaType":"{{OciConfig}}","digest":"{{ConfigDigest.ToString().ToUpperInvariant()}}","size":6}""",
        $$"""{"mediaType":"{{OciConfig}}","digest":"sha256:../../etc/passwd","size":6}""",
        $$"""{"mediaType":"{{OciConfig}}","digest":"md5:d41d8cd98f00b204e9800998ecf8427e","size":6}""",
        $$"""{"mediaType":"{{OciConfig}}","digest":42,"size":6}""",
        $$"""{"digest":"{{ConfigDigest}}","size":6}""",
        $$"""{"mediaType":7,"digest":"{{ConfigDigest}}","size":6}""",
        $$"""{"mediaType":null,"digest":"{{ConfigDigest}}","size":6}""",
        "{}",
        "null",
        "\"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"",
        "42",
        "[]",
        "true",
    ];

    [Theory]
    [MemberData(nameof(BadDescriptors))]
    public void Bad_config_descriptor_is_refused(string descriptor)
    {
        Refused(ImageManifest(config: descriptor));
    }

    [Theory]
    [MemberData(nameof(BadDescriptors))]
    public void Bad_layer_descriptor_is_refused(string descriptor)
    {
        Refused(ImageManifest(layers: $"[{Descriptor(OciLayer, LayerDigest, 5)},{descriptor}]"));
    }

    [Theory]
    [MemberData(nameof(BadDescriptors))]
    public void Bad_index_entry_is_refused(string descriptor)
    {
        Refused(Index(manifests: $"[{descriptor}]"));
    }

    [Theory]
    [MemberData(nameof(BadDescriptors))]
    public void Bad_subject_is_refused(string descriptor)
    {
        Refused(ImageManifest(extra: $",\"subject\":{descriptor}"));
    }

    [Fact]
    public void Size_zero_is_a_valid_size()
    {
        var parsed = Parse(ImageManifest(config: Descriptor(OciConfig, ConfigDigest, 0)));
        Assert.Equal(0, parsed.Config!.Size);
    }

    [Theory]
    [InlineData("null")]
    [InlineData("{}")]
    [InlineData("\"layers\"")]
    [InlineData("42")]
    public void Layers_that_are_not_an_array_are_refused(string layers)
    {
        Refused(ImageManifest(layers: layers));
    }

    [Fact]
    public void Image_manifest_without_layers_is_refused()
    {
        var json = $$"""{"schemaVersion":2,"mediaType":"{{MediaTypes.OciManifest}}","config":{{Descriptor(OciConfig, ConfigDigest, 6)}}}""";
        Assert.Contains("layers", Refused(json).Message);
    }

    [Fact]
    public void Image_manifest_without_config_is_refused()
    {
        var json = $$"""{"schemaVersion":2,"mediaType":"{{MediaTypes.OciManifest}}","layers":[]}""";
        Assert.Contains("config", Refused(json).Message);
    }

    [Fact]
    public void Index_without_manifests_is_refused()
    {
        var json = $$"""{"schemaVersion":2,"mediaType":"{{MediaTypes.OciIndex}}"}""";
        Assert.Contains("manifests", Refused(json).Message);
        Refused(Index(manifests: "{}"));
    }

    [Theory]
    [InlineData("7")]
    [InlineData("{}")]
    [InlineData("[]")]
    public void Media_type_that_is_not_a_string_is_refused(string mediaType)
    {
        Refused($$"""{"schemaVersion":2,"mediaType":{{mediaType}},"config":{{Descriptor(OciConfig, ConfigDigest, 6)}},"layers":[]}""");
    }

    [Fact]
    public void Artifact_type_that_is_not_a_string_is_refused()
    {
        Refused(ImageManifest(extra: ",\"artifactType\":5"));
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("not json")]
    [InlineData("{")]
    [InlineData("{\"schemaVersion\":2,}")]
    [InlineData("[]")]
    [InlineData("null")]
    [InlineData("\"manifest\"")]
    [InlineData("2")]
    [InlineData("{} {}")]
    public void Body_that_is_not_a_json_object_is_refused(string json)
    {
        Refused(json, MediaTypes.OciManifest);
    }

    [Fact]
    public void Invalid_utf8_is_refused()
    {
        var bytes = Encoding.UTF8.GetBytes(ImageManifest(extra: ",\"annotations\":{\"k\":\"XX\"}")).ToList();
        var at = bytes.LastIndexOf((byte)'X');
        bytes[at] = 0xC3;
        bytes[at - 1] = 0xFF;
        var error = Assert.Throws<RegistryException>(() => ManifestParser.Parse(bytes.ToArray(), MediaTypes.OciManifest));
        Assert.Equal(ErrorCode.ManifestInvalid, error.Code);
    }

    [Theory]
    [InlineData("annotations", "{\"k\":\"\\ud800\"}")]
    [InlineData("annotations", "{\"\\udc00\":\"v\"}")]
    [InlineData("artifactType", "\"\\ud800\"")]
    [InlineData("mediaType", "\"\\ud800\"")]
    public void Lone_surrogate_escape_is_refused_not_a_crash(string property, string value)
    {
        var json = property == "mediaType"
            ? $$"""{"schemaVersion":2,"mediaType":{{value}},"config":{{Descriptor(OciConfig, ConfigDigest, 6)}},"layers":[]}"""
            : ImageManifest(extra: $",\"{property}\":{value}");
        Refused(json);
    }

    [Fact]
    public void Lone_surrogate_in_a_descriptor_is_refused_not_a_crash()
    {
        Refused(ImageManifest(config: $$"""{"mediaType":"\ud800","digest":"{{ConfigDigest}}","size":6}"""));
        Refused(ImageManifest(layers: $$"""[{"mediaType":"{{OciLayer}}","digest":"{{LayerDigest}}","size":5,"urls":["\udfff"]}]"""));
        Refused(Index(manifests: $$"""[{"mediaType":"{{MediaTypes.OciManifest}}","digest":"{{ChildDigest}}","size":5,"platform":{"os":"\ud800","architecture":"amd64"} }]"""));
    }

    [Theory]
    [InlineData(65)]
    [InlineData(1_000)]
    [InlineData(100_000)]
    public void Deeply_nested_json_is_refused_not_a_crash(int depth)
    {
        var nested = new string('[', depth) + new string(']', depth);
        Refused(ImageManifest(extra: $",\"annotations\":{{\"k\":{nested}}}"));
        Refused(new string('{', depth) + new string('}', depth));
        Refused(ImageManifest(extra: $",\"junk\":{nested}"));
    }

    [Fact]
    public void Nesting_within_the_depth_limit_is_accepted()
    {
        var nested = new string('[', 50) + new string(']', 50);
        var parsed = Parse(ImageManifest(extra: $",\"junk\":{nested}"));
        Assert.Equal(ConfigDigest, parsed.Config!.Digest);
    }
}
