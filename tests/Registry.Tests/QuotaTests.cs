using System.Net;
using Berth.TestSupport;

namespace Berth.Registry.Tests;

/// <summary>Storage quotas per namespace: deduplicated usage, warning and reject limits, refusals that lose nothing, and who may set them.</summary>
public sealed class QuotaTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly OciClient _oci = new(fixture.CreateClient());

    private HttpClient Admin() => RegistryLogin.WithBasic(fixture.CreateClient(), "admin", BerthHosts.AdminPassword);

    private async Task<HttpResponseMessage> PostBlobAsync(string repository, byte[] blob) =>
        await _oci.Http.PostAsync($"/v2/{repository}/blobs/uploads/?digest={OciClient.Sha256(blob)}", new ByteArrayContent(blob));

    [Fact]
    public async Task A_push_past_the_reject_limit_is_refused_and_blobs_the_namespace_holds_cost_nothing()
    {
        var @namespace = "quota" + Guid.NewGuid().ToString("N")[..8];
        var (status, _) = await RegistryLogin.CallAsync(Admin(), HttpMethod.Put, $"/api/v1/collector/quotas/{@namespace}", new { warningBytes = 3000, rejectBytes = 5000 });
        Assert.Equal(HttpStatusCode.OK, status);
        var first = OciClient.RandomBytes(2048);
        var second = OciClient.RandomBytes(2048);
        var third = OciClient.RandomBytes(2048);

        using (var ok = await PostBlobAsync($"{@namespace}/a", first)) Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        using (var ok = await PostBlobAsync($"{@namespace}/a", second)) Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        using (var refused = await PostBlobAsync($"{@namespace}/b", third))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Equal(["DENIED"], await OciClient.ErrorCodesAsync(refused));
        }
        // Refused means not stored, and no staged bytes are left behind.
        using (var head = await _oci.SendAsync(HttpMethod.Head, $"/v2/{@namespace}/b/blobs/{OciClient.Sha256(third)}"))
            Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
        Assert.False(File.Exists(OciClient.BlobFile(fixture.DataDirectory, OciClient.Sha256(third))));

        // The same content again, in another repository of the namespace: deduplicated, so allowed.
        using (var again = await PostBlobAsync($"{@namespace}/b", first)) Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        using (var mount = await _oci.SendAsync(HttpMethod.Post, $"/v2/{@namespace}/c/blobs/uploads/?mount={OciClient.Sha256(second)}&from={@namespace}/a"))
            Assert.Equal(HttpStatusCode.Created, mount.StatusCode);
        // Another namespace is not limited.
        using (var elsewhere = await PostBlobAsync(OciClient.NewRepository("free"), third)) Assert.Equal(HttpStatusCode.Created, elsewhere.StatusCode);

        var (got, quota) = await RegistryLogin.CallAsync(Admin(), HttpMethod.Get, $"/api/v1/collector/quotas/{@namespace}");
        Assert.Equal(HttpStatusCode.OK, got);
        Assert.Equal(4096, quota!.Value.GetProperty("usedBytes").GetInt64());
        Assert.True(quota.Value.GetProperty("warningReached").GetBoolean());
        Assert.Equal(5000, quota.Value.GetProperty("rejectBytes").GetInt64());

        // Crossing the warning limit was published once (later blobs past it add nothing), and the audit log has it.
        var warnings = await AuditEntriesAsync(@namespace, "quota_warning", until: entries => entries.Count >= 1);
        var warned = Assert.Single(warnings);
        Assert.Equal((4096, 3000, 5000), (warned.GetProperty("metadata").GetProperty("storedBytes").GetInt64(),
            warned.GetProperty("metadata").GetProperty("warningBytes").GetInt64(), warned.GetProperty("metadata").GetProperty("rejectBytes").GetInt64()));

        // Without the quota the push goes through.
        Assert.Equal(HttpStatusCode.OK, (await RegistryLogin.CallAsync(Admin(), HttpMethod.Delete, $"/api/v1/collector/quotas/{@namespace}")).Status);
        using var after = await PostBlobAsync($"{@namespace}/b", third);
        Assert.Equal(HttpStatusCode.Created, after.StatusCode);
    }

    /// <summary>The namespace's audit entries of one kind, once <paramref name="until"/> holds (or after 10 s).</summary>
    private async Task<List<System.Text.Json.JsonElement>> AuditEntriesAsync(string @namespace, string kind, Func<List<System.Text.Json.JsonElement>, bool> until)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var (status, body) = await RegistryLogin.CallAsync(Admin(), HttpMethod.Get, $"/api/v1/auditlog/entries?namespace={@namespace}&kind={kind}");
            Assert.Equal(HttpStatusCode.OK, status);
            List<System.Text.Json.JsonElement> entries = [.. body!.Value.GetProperty("entries").EnumerateArray()];
            if (until(entries) || DateTime.UtcNow > deadline) return entries;
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task Only_superusers_set_quotas_and_bad_limits_are_refused()
    {
        var admin = Admin();
        Assert.Equal(HttpStatusCode.BadRequest, (await RegistryLogin.CallAsync(admin, HttpMethod.Put, "/api/v1/collector/quotas/acme", new { warningBytes = 10, rejectBytes = 5 })).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await RegistryLogin.CallAsync(admin, HttpMethod.Put, "/api/v1/collector/quotas/acme", new { rejectBytes = -1 })).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await RegistryLogin.CallAsync(admin, HttpMethod.Put, "/api/v1/collector/quotas/acme", new { })).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await RegistryLogin.CallAsync(admin, HttpMethod.Delete, "/api/v1/collector/quotas/noquota" + Guid.NewGuid().ToString("N")[..6])).Status);

        Assert.Equal(HttpStatusCode.OK, (await RegistryLogin.CallAsync(admin, HttpMethod.Post, "/api/v1/users", new { name = "gina", password = "gina-password-1" })).Status);
        var gina = RegistryLogin.WithBasic(fixture.CreateClient(), "gina", "gina-password-1");
        Assert.Equal(HttpStatusCode.Forbidden, (await RegistryLogin.CallAsync(gina, HttpMethod.Put, "/api/v1/collector/quotas/gina", new { rejectBytes = 1 << 30 })).Status);
        // Her own namespace's usage she may see.
        Assert.Equal(HttpStatusCode.OK, (await RegistryLogin.CallAsync(gina, HttpMethod.Get, "/api/v1/collector/quotas/gina")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await RegistryLogin.CallAsync(gina, HttpMethod.Get, "/api/v1/collector/quotas/acme")).Status);
    }
}
