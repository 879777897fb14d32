using Berth.Access;
using Berth.Registry.Collection;
using Grpc.Core;

namespace Berth.Collector.Api;

/// <summary>
/// Who may collect what: superusers anything, including the whole registry; whoever
/// administers a namespace that namespace and its repositories. The same rule decides
/// whose run history a caller may read.
/// </summary>
public sealed class CollectorAccess(IAccessDirectory? directory = null)
{
    /// <summary>The caller's name when they may act on <paramref name="scope"/>; refuses otherwise.</summary>
    public async Task<string> RequireAsync(ServerCallContext context, CollectionScope scope, string what)
    {
        var access = directory
            ?? throw new RpcException(new Status(StatusCode.Unavailable, "the collector needs the auth module: run it here or set Collector:AuthUrl"));
        var caller = await ApiCaller.AuthenticateAsync(access, context);
        if (caller.IsAnonymous) throw new RpcException(new Status(StatusCode.Unauthenticated, $"log in to {what}"));
        if (caller.IsSuperuser) return caller.Name;
        var @namespace = scope.Repository is { } repository ? ReachabilityRules.NamespaceOf(repository) : scope.Namespace;
        if (@namespace is null)
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"only superusers may {what} for the whole registry; name a namespace you administer"));
        if (@namespace == "" || !await access.AdministersNamespaceAsync(caller, @namespace, context.CancellationToken))
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"not allowed to {what} in namespace '{@namespace}'"));
        return caller.Name;
    }
}
