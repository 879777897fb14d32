using System.Text.Json;
using Berth.Access;
using Berth.Auth.Accounts;
using Berth.Auth.Tokens;
using Berth.Contracts;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Berth.Auth.Http;

/// <summary>
/// /v2/auth, the token endpoint of the Docker token spec: GET with Basic
/// credentials (or none, for anonymous) and the OAuth2 POST form with
/// grant_type=password or refresh_token. Either way the answer is a short-lived
/// JWT granting what <see cref="AccessGrants"/> allows of the requested scopes.
/// </summary>
public sealed class TokenEndpoint(
    CredentialVerifier credentials,
    AccessGrants grants,
    TokenIssuer issuer,
    RefreshTokens refreshTokens,
    SigningKeyRing keys,
    LoginAudit logins,
    IOptions<TokenSettings> settings)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    public async Task GetAsync(HttpContext context)
    {
        var query = context.Request.Query;
        if (!IsOurService(query["service"].ToString()))
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "invalid_request", "unknown service");
            return;
        }
        var caller = Caller.Anonymous;
        var authorization = context.Request.Headers.Authorization.ToString();
        if (authorization.Length > 0)
        {
            if (!BasicCredentials.TryParse(authorization, out var user, out var secret))
            {
                await WriteErrorAsync(context, StatusCodes.Status401Unauthorized, "invalid_client", "credentials must be HTTP Basic");
                return;
            }
            var login = await credentials.VerifyAsync(user, secret, Address(context), LoginChannel.Registry, context.RequestAborted);
            if (!await CheckLoginAsync(context, login)) return;
            caller = login.Caller!;
            await RecordLoginAsync(context, caller);
        }
        string? refreshToken = null;
        if (MayHaveRefreshToken(caller) && query["offline_token"] == "true")
            refreshToken = await refreshTokens.CreateAsync(caller, query["client_id"].ToString(), context.RequestAborted);
        await IssueAsync(context, caller, ScopeParser.Parse(query["scope"]), refreshToken);
    }

    public async Task PostAsync(HttpContext context)
    {
        if (!context.Request.HasFormContentType)
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "invalid_request", "expected an application/x-www-form-urlencoded body");
            return;
        }
        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        if (!IsOurService(form["service"].ToString()))
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "invalid_request", "unknown service");
            return;
        }
        var clientId = form["client_id"].ToString();
        var scopes = ScopeParser.Parse(form["scope"]);
        switch (form["grant_type"].ToString())
        {
            case "password":
            {
                var login = await credentials.VerifyAsync(form["username"].ToString(), form["password"].ToString(), Address(context), LoginChannel.Registry, context.RequestAborted);
                if (!await CheckLoginAsync(context, login)) return;
                await RecordLoginAsync(context, login.Caller!);
                var refresh = form["access_type"] == "offline" && MayHaveRefreshToken(login.Caller!) ? await refreshTokens.CreateAsync(login.Caller!, clientId, context.RequestAborted) : null;
                await IssueAsync(context, login.Caller!, scopes, refresh);
                return;
            }
            case "refresh_token":
            {
                var presented = form["refresh_token"].ToString();
                var caller = await refreshTokens.RedeemAsync(presented, context.RequestAborted);
                if (caller is null)
                {
                    await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "invalid_grant", "refresh token is unknown, expired or revoked");
                    return;
                }
                await IssueAsync(context, caller, scopes, presented);
                return;
            }
            default:
                await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "unsupported_grant_type", "grant_type must be password or refresh_token");
                return;
        }
    }

    /// <summary>The public signing keys, for registries validating tokens outside this process.</summary>
    public Task JwksAsync(HttpContext context)
    {
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-cache";
        return context.Response.WriteAsync(keys.ToJwks(), context.RequestAborted);
    }

    private async Task IssueAsync(HttpContext context, Caller caller, List<ResourceScope> requested, string? refreshToken)
    {
        var actor = Actor(context, caller);
        var access = await grants.GrantAsync(caller, requested, actor, context.RequestAborted);
        var token = issuer.Issue(new TokenGrant(caller.Subject, settings.Value.Service, access), settings.Value.Lifetime);
        context.Response.Headers.CacheControl = "no-store";
        await context.Response.WriteAsJsonAsync(new TokenResponse(
            token.Token, token.Token, (int)token.Lifetime.TotalSeconds, token.IssuedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ"),
            refreshToken, string.Join(' ', access.Select(a => a.ToString()))), Json, context.RequestAborted);
    }

    /// <summary>A credential login at the token endpoint is an audited action (Quay's login_success).</summary>
    private Task RecordLoginAsync(HttpContext context, Caller caller) => logins.RecordAsync(caller, Actor(context, caller), context.RequestAborted);

    private static EventActor Actor(HttpContext context, Caller caller) =>
        new(caller.Name, caller.Kind.ToString().ToLowerInvariant(), Address(context), context.Request.Headers.UserAgent.ToString())
        {
            RequestId = System.Diagnostics.Activity.Current?.TraceId.ToString() ?? context.TraceIdentifier,
        };

    private static async Task<bool> CheckLoginAsync(HttpContext context, Authentication login)
    {
        if (login.Succeeded) return true;
        if (login.RetryAfter is { } wait)
        {
            context.Response.Headers.RetryAfter = Math.Ceiling(wait.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            await WriteErrorAsync(context, StatusCodes.Status429TooManyRequests, "too_many_requests", login.Failure!);
            return false;
        }
        await WriteErrorAsync(context, StatusCodes.Status401Unauthorized, "invalid_grant", login.Failure ?? "invalid credentials");
        return false;
    }

    /// <summary>
    /// An app-token login gets no refresh token: it would outlive the app token's
    /// revocation or expiry. The client keeps using the app token instead.
    /// </summary>
    private static bool MayHaveRefreshToken(Caller caller) => !caller.IsAnonymous && !caller.ViaAppToken;

    private bool IsOurService(string service) => service.Length == 0 || service == settings.Value.Service;

    private static string? Address(HttpContext context) => context.Connection.RemoteIpAddress?.ToString();

    /// <summary>
    /// OAuth2 clients read "error"; docker's GET path reads "errors" as the
    /// registry writes them; both are given.
    /// </summary>
    private static Task WriteErrorAsync(HttpContext context, int status, string error, string description)
    {
        context.Response.StatusCode = status;
        if (status == StatusCodes.Status401Unauthorized) context.Response.Headers.WWWAuthenticate = "Basic realm=\"berth\"";
        var code = status switch { 401 => "UNAUTHORIZED", 429 => "TOOMANYREQUESTS", _ => "UNSUPPORTED" };
        return context.Response.WriteAsJsonAsync(new
        {
            error,
            error_description = description,
            errors = new[] { new { code, message = description } },
        }, Json, context.RequestAborted);
    }

    private sealed record TokenResponse(
        [property: System.Text.Json.Serialization.JsonPropertyName("token")] string Token,
        [property: System.Text.Json.Serialization.JsonPropertyName("access_token")] string AccessToken,
        [property: System.Text.Json.Serialization.JsonPropertyName("expires_in")] int ExpiresIn,
        [property: System.Text.Json.Serialization.JsonPropertyName("issued_at")] string IssuedAt,
        [property: System.Text.Json.Serialization.JsonPropertyName("refresh_token")] string? RefreshToken,
        [property: System.Text.Json.Serialization.JsonPropertyName("scope")] string Scope);
}
