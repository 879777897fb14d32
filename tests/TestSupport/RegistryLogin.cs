using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Berth.TestSupport;

/// <summary>The client side of the token flow, as docker does it: Basic credentials to /v2/auth, a bearer token back.</summary>
public static class RegistryLogin
{
    /// <summary>A token for <paramref name="scopes"/>; <paramref name="user"/> null is an anonymous request.</summary>
    public static async Task<string> TokenAsync(HttpClient http, string? user, string? secret, params string[] scopes)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, TokenPath(scopes));
        if (user is not null) request.Headers.Authorization = Basic(user, secret ?? "");
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new HttpRequestException($"token request failed: {(int)response.StatusCode} {body}", null, response.StatusCode);
        return JsonDocument.Parse(body).RootElement.GetProperty("token").GetString()!;
    }

    public static string TokenPath(params string[] scopes) =>
        "/v2/auth?service=berth" + string.Concat(scopes.Select(s => "&scope=" + Uri.EscapeDataString(s)));

    public static AuthenticationHeaderValue Basic(string user, string secret) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{secret}")));

    /// <summary>A client for the management API that sends <paramref name="user"/>'s credentials on every call.</summary>
    public static HttpClient WithBasic(HttpClient http, string user, string secret)
    {
        http.DefaultRequestHeaders.Authorization = Basic(user, secret);
        return http;
    }

    /// <summary>Calls a REST endpoint and returns the status and the parsed JSON body (or null).</summary>
    public static async Task<(System.Net.HttpStatusCode Status, JsonElement? Body)> CallAsync(HttpClient http, HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = JsonContent.Create(body);
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        JsonElement? parsed = text.Length > 0 && text.TrimStart().StartsWith('{') ? JsonDocument.Parse(text).RootElement.Clone() : null;
        return (response.StatusCode, parsed);
    }
}
