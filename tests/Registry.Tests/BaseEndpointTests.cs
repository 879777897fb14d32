using System.Net;

namespace Berth.Registry.Tests;

public sealed class BaseEndpointTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task Base_endpoint_answers_with_the_api_version_header()
    {
        using var http = fixture.CreateClient();
        using var response = await http.GetAsync("/v2/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("registry/2.0", response.Headers.GetValues("Docker-Distribution-API-Version").Single());
    }

    [Fact]
    public async Task Unknown_path_is_an_oci_error_not_a_bare_404()
    {
        using var http = fixture.CreateClient();
        using var response = await http.GetAsync("/v2/acme/web/nonsense");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(["UNSUPPORTED"], await OciClient.ErrorCodesAsync(response));
    }
}
