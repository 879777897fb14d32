using Berth.Registry.Http;
using Berth.Oci;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Berth.Registry.Tests.Unit;

/// <summary>Which manifest media types a client accepts, from zero, one or many Accept headers.</summary>
public sealed class AcceptHeaderTests
{
    private static AcceptHeader From(params string?[] headers)
    {
        var request = new DefaultHttpContext().Request;
        if (headers.Length > 0) request.Headers.Accept = new StringValues(headers);
        return AcceptHeader.From(request);
    }

    [Fact]
    public void No_accept_header_accepts_everything()
    {
        var accept = From();
        Assert.True(accept.Accepts(MediaTypes.OciManifest));
        Assert.True(accept.Accepts(MediaTypes.DockerManifestList));
        Assert.True(accept.Accepts("text/plain"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(",")]
    [InlineData(" , ,")]
    [InlineData(";q=0.5")]
    public void Empty_accept_header_accepts_everything(string header)
    {
        var accept = From(header);
        Assert.True(accept.Accepts(MediaTypes.OciIndex));
        Assert.True(accept.Accepts(MediaTypes.DockerManifest));
    }

    [Fact]
    public void Single_type_accepts_only_that_type()
    {
        var accept = From(MediaTypes.OciManifest);
        Assert.True(accept.Accepts(MediaTypes.OciManifest));
        Assert.False(accept.Accepts(MediaTypes.OciIndex));
        Assert.False(accept.Accepts(MediaTypes.DockerManifest));
        Assert.False(accept.Accepts(MediaTypes.DockerManifestList));
    }

    [Fact]
    public void Comma_separated_types_in_one_header()
    {
        var accept = From($"{MediaTypes.OciManifest}, {MediaTypes.DockerManifest},{MediaTypes.OciIndex}");
        Assert.True(accept.Accepts(MediaTypes.OciManifest));
        Assert.True(accept.Accepts(MediaTypes.DockerManifest));
        Assert.True(accept.Accepts(MediaTypes.OciIndex));
        Assert.False(accept.Accepts(MediaTypes.DockerManifestList));
    }

    [Fact]
    public void Several_accept_headers_are_combined()
    {
        // Docker sends one Accept header per media type.
        var accept = From(MediaTypes.DockerManifest, MediaTypes.DockerManifestList, $"{MediaTypes.OciManifest}, {MediaTypes.OciIndex}");
        Assert.True(accept.Accepts(MediaTypes.DockerManifest));
        Assert.True(accept.Accepts(MediaTypes.DockerManifestList));
        Assert.True(accept.Accepts(MediaTypes.OciManifest));
        Assert.True(accept.Accepts(MediaTypes.OciIndex));
        Assert.False(accept.Accepts("application/vnd.example+json"));
    }

    [Fact]
    public void Several_headers_appended_one_by_one_are_combined()
    {
        var request = new DefaultHttpContext().Request;
        request.Headers.Append("Accept", MediaTypes.DockerManifest);
        request.Headers.Append("Accept", MediaTypes.OciIndex);
        var accept = AcceptHeader.From(request);
        Assert.True(accept.Accepts(MediaTypes.DockerManifest));
        Assert.True(accept.Accepts(MediaTypes.OciIndex));
        Assert.False(accept.Accepts(MediaTypes.OciManifest));
    }

    [Fact]
    public void Parameters_such_as_q_are_ignored_when_matching()
    {
        var accept = From($"{MediaTypes.OciManifest};q=0.9, {MediaTypes.DockerManifest} ; q=0.5 ; charset=utf-8");
        Assert.True(accept.Accepts(MediaTypes.OciManifest));
        Assert.True(accept.Accepts(MediaTypes.DockerManifest));
        Assert.False(accept.Accepts(MediaTypes.OciIndex));
        Assert.False(accept.Accepts($"{MediaTypes.OciManifest};q=0.9"));
    }

    [Theory]
    [InlineData("*/*")]
    [InlineData("*/*;q=0.1")]
    [InlineData("application/*")]
    [InlineData("text/html, */*; q=0.8")]
    public void Wildcards_accept_everything(string header)
    {
        var accept = From(header);
        Assert.True(accept.Accepts(MediaTypes.OciManifest));
        Assert.True(accept.Accepts(MediaTypes.DockerManifestList));
    }

    [Fact]
    public void Wildcard_in_a_second_header_accepts_everything()
    {
        var accept = From(MediaTypes.OciManifest, "*/*");
        Assert.True(accept.Accepts(MediaTypes.OciIndex));
    }

    [Fact]
    public void Only_unrelated_types_accept_no_manifest()
    {
        var accept = From("text/html, application/xhtml+xml");
        Assert.False(accept.Accepts(MediaTypes.OciManifest));
        Assert.False(accept.Accepts(MediaTypes.DockerManifest));
        Assert.True(accept.Accepts("text/html"));
    }

    [Fact]
    public void Media_types_match_case_insensitively()
    {
        var accept = From("Application/VND.OCI.Image.Manifest.V1+JSON");
        Assert.True(accept.Accepts(MediaTypes.OciManifest));
        Assert.False(accept.Accepts(MediaTypes.OciIndex));
    }

    [Fact]
    public void A_type_with_zero_quality_is_not_accepted()
    {
        var accept = From($"{MediaTypes.OciIndex};q=0, {MediaTypes.OciManifest}");
        Assert.False(accept.Accepts(MediaTypes.OciIndex));
        Assert.True(accept.Accepts(MediaTypes.OciManifest));
    }

    [Fact]
    public void Only_refusals_accept_nothing_else()
    {
        var accept = From("*/*;q=0.0");
        Assert.False(accept.Accepts(MediaTypes.OciManifest));
    }
}
