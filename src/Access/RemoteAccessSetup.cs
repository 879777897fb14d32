using Berth.Access.Api.V1;
using Grpc.Net.Client;
using Grpc.Net.Client.Web;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Berth.Access;

/// <summary>For a module whose process does not run Auth: its questions go to Auth's AccessService at <c>authUrl</c>.</summary>
public static class RemoteAccessSetup
{
    public static IServiceCollection AddRemoteAccessDirectory(this IServiceCollection services, string authUrl)
    {
        // Auth's port speaks HTTP/1.1 (container clients need it), so gRPC goes as gRPC-Web.
        services.TryAddSingleton<IAccessDirectory>(_ => new RemoteAccessDirectory(new AccessService.AccessServiceClient(
            GrpcChannel.ForAddress(authUrl, new GrpcChannelOptions
            {
                HttpHandler = new GrpcWebHandler(GrpcWebMode.GrpcWeb, new HttpClientHandler()),
                HttpVersion = System.Net.HttpVersion.Version11,
            }))));
        return services;
    }
}
