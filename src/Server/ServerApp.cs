using Berth.ServiceDefaults;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Berth.Server;

/// <summary>Builds the Server: the selected modules behind one port, for /v2, gRPC and REST alike.</summary>
public static class ServerApp
{
    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        var modules = ModuleCatalog.Select(builder.Configuration["services"]);

        builder.AddServiceDefaults();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // Cleartext HTTP/2 (for gRPC from the gateway) and HTTP/1.1 (for container clients) on one port.
            kestrel.ConfigureEndpointDefaults(endpoint => endpoint.Protocols = HttpProtocols.Http1AndHttp2);
            kestrel.AddServerHeader = false;
        });
        builder.Services.Configure<ForwardedHeadersOptions>(options =>
        {
            // The gateway says how the client reached it; Location headers are built from that.
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost;
        });

        foreach (var module in modules) module.Add(builder);

        var app = builder.Build();
        app.UseForwardedHeaders();
        app.MapDefaultEndpoints();
        foreach (var module in modules) module.Map(app);
        app.Logger.LogInformation("Berth server running modules: {Modules}", string.Join(", ", modules.Select(m => m.Name)));
        return app;
    }
}
