using Berth.Access;
using Berth.Registry.Http;
using Microsoft.AspNetCore.Http;

namespace Berth.Registry.Access;

/// <summary>
/// What a /v2 request needs from the token: pull for reads, push for writes,
/// delete for deletions, the catalog scope for _catalog, and just a valid token
/// for the base endpoint. <see cref="ChallengeActions"/> is what the 401 asks the
/// client to get: a push asks for pull and push together, as docker does.
/// </summary>
public sealed record V2Requirement(string Type, string Name, string Action, string ChallengeActions)
{
    public static V2Requirement? For(V2Route route, string method)
    {
        var read = HttpMethods.IsGet(method) || HttpMethods.IsHead(method);
        return route.Kind switch
        {
            V2RouteKind.Catalog => new(ResourceScope.Registry, ResourceScope.Catalog, ResourceScope.All, ResourceScope.All),
            V2RouteKind.TagsList or V2RouteKind.Referrers => Repository(route.Name, ResourceScope.Pull),
            V2RouteKind.Manifest or V2RouteKind.Blob when read => Repository(route.Name, ResourceScope.Pull),
            V2RouteKind.Manifest or V2RouteKind.Blob when HttpMethods.IsDelete(method) => Repository(route.Name, ResourceScope.Delete),
            V2RouteKind.Manifest or V2RouteKind.UploadStart or V2RouteKind.Upload => Repository(route.Name, ResourceScope.Push),
            _ => null,
        };
    }

    public string Scope => $"{Type}:{Name}:{ChallengeActions}";

    private static V2Requirement Repository(string name, string action) =>
        new(ResourceScope.Repository, name, action, action == ResourceScope.Push ? "pull,push" : action);
}
