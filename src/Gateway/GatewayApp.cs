using Berth.ServiceDefaults;
using Yarp.ReverseProxy.Configuration;

namespace Berth.Gateway;

/// <summary>
/// The edge: YARP routes /v2, /api/v1 and gRPC to the services that own them.
/// Bodies stream through (nothing is buffered whole); X-Forwarded-* headers tell
/// the services how the client reached the gateway, so their Location headers
/// point here.
/// </summary>
public static class GatewayApp
{
    public const string DefaultUrl = "http://localhost:8080";

    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        // Without --urls (or ASPNETCORE_URLS from the AppHost) the gateway takes 8080, beside the Server's default 5000.
        if (string.IsNullOrEmpty(builder.Configuration["urls"])) builder.WebHost.UseUrls(DefaultUrl);
        builder.AddServiceDefaults();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // Blob downloads are relayed in 64 KiB pieces; letting up to 1 MiB queue for the
            // client socket keeps the upstream read going while the client catches up.
            kestrel.Limits.MaxResponseBufferSize = 1024 * 1024;
        });
        builder.Services.AddReverseProxy()
            .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
            .AddTransforms<BlobHandoff>()
            .AddTransforms<UploadAffinity>()
            .AddServiceDiscoveryDestinationResolver();

        builder.Services.AddSingleton<Yarp.ReverseProxy.LoadBalancing.ILoadBalancingPolicy, UploadAffinityPolicy>();

        var app = builder.Build();
        RouteBodyLimits.Validate(app.Services.GetRequiredService<IProxyConfigProvider>().GetConfig().Routes);
        app.MapDefaultEndpoints();
        // A custom pipeline replaces YARP's default one, so the defaults that matter with
        // several instances behind a route are added back: spread the load, and stop
        // sending to an instance whose connections fail (active checks bring it back).
        app.MapReverseProxy(proxy =>
        {
            proxy.Use(RouteBodyLimits.ApplyAsync);
            proxy.UseLoadBalancing();
            proxy.UsePassiveHealthChecks();
        });
        return app;
    }
}
