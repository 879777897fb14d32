using Berth.Access;
using Berth.Oci;
using Berth.Registry.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Berth.Registry.Access;

/// <summary>
/// Checks the bearer token of every /v2 request against what the request needs.
/// No token or a bad one: 401 with the challenge that sends the client to the
/// token endpoint. A token that never mentions the resource: 401 too (the
/// client asks for it and gets nothing it may not have). A token that names
/// the resource without the action: 403, because Auth already said no.
/// </summary>
public sealed class V2AccessGuard(CachingTokenValidator validator, IOptions<TokenSettings> settings)
{
    public async Task<TokenGrant> AuthorizeAsync(HttpContext context, V2Route route)
    {
        var requirement = V2Requirement.For(route, context.Request.Method);
        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            throw Challenge(context, requirement, null, "authentication required");
        var check = await validator.ValidateAsync(header[7..].Trim());
        if (check.Grant is not { } grant)
            throw Challenge(context, requirement, "invalid_token", "the token is not valid");
        if (requirement is null) return grant;
        var entry = grant.Find(requirement.Type, requirement.Name);
        if (entry is null) throw Challenge(context, requirement, "insufficient_scope", "the token does not grant access to this resource");
        if (!entry.Allows(requirement.Action))
            throw ErrorCode.Denied.With("requested access to the resource is denied", new { requirement.Type, requirement.Name, requirement.Action });
        return grant;
    }

    private RegistryException Challenge(HttpContext context, V2Requirement? requirement, string? error, string message)
    {
        var exception = ErrorCode.Unauthorized.With(message, requirement is null ? null : new[] { new { requirement.Type, requirement.Name, requirement.Action } });
        var challenge = $"Bearer realm=\"{Realm(context.Request)}\",service=\"{settings.Value.Service}\"";
        if (requirement is not null) challenge += $",scope=\"{requirement.Scope}\"";
        if (error is not null) challenge += $",error=\"{error}\"";
        exception.Headers["WWW-Authenticate"] = challenge;
        return exception;
    }

    /// <summary>The configured realm, or /v2/auth on whatever address the client used (the gateway's, behind it).</summary>
    private string Realm(HttpRequest request) => settings.Value.Realm ?? V2Responses.Url(request, "/v2/auth");
}
