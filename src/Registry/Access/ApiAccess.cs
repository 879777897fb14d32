using Berth.Access;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace Berth.Registry.Access;

/// <summary>
/// Access checks for the registry's management API: the caller from the
/// Authorization header, their role on the repository from Auth. With
/// Registry:Authentication=none everything is allowed.
/// </summary>
public sealed class ApiAccess(IOptions<RegistryOptions> options, IAccessDirectory? directory = null)
{
    public async Task RequireAsync(ServerCallContext context, string repository, RepositoryRole minimum, string what)
    {
        if (!options.Value.RequiresTokens) return;
        var access = Directory;
        var caller = await ApiCaller.AuthenticateAsync(access, context);
        var role = await access.GetRoleAsync(caller, repository, context.CancellationToken);
        ApiCaller.Require(caller, role, minimum, what);
    }

    /// <summary>Which repositories the caller may see in listings.</summary>
    public async Task<Func<string, bool>> ReadableFilterAsync(ServerCallContext context)
    {
        if (!options.Value.RequiresTokens) return _ => true;
        var caller = await ApiCaller.AuthenticateAsync(Directory, context);
        return (await Directory.GetReadableAsync(caller, context.CancellationToken)).Contains;
    }

    private IAccessDirectory Directory => directory
        ?? throw new RpcException(new Status(StatusCode.Unavailable, "access checks need the auth module: run it here or set Registry:AuthUrl"));
}
