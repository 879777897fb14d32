using Berth.Messaging;
using Berth.ServiceDefaults;
using Microsoft.AspNetCore.HttpOverrides;
using Grpc.AspNetCore.Web;

namespace Berth.Server;

/// <summary>Builds the Server: the selected modules behind one port, for /v2, gRPC(-Web) and REST alike.</summary>
public static class ServerApp
{
    /// <summary>
    /// Configuration is read once, at start. Reloading it on change means watching the
    /// content root and everything beneath it, and the default data directory is beneath
    /// it: every database and blob write then wakes the watcher (a quarter of the CPU
    /// that recording a pull costs). An operator can still turn it on with
    /// --hostBuilder:reloadConfigOnChange true (a later argument wins).
    /// </summary>
    public const string NoConfigReload = "--hostBuilder:reloadConfigOnChange=false";

    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder([NoConfigReload, .. args]);
        var modules = ModuleCatalog.Select(builder.Configuration["services"]);

        builder.AddServiceDefaults();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);
        builder.Services.Configure<ForwardedHeadersOptions>(options =>
        {
            // The gateway says how the client reached it; Location headers are built from that.
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost;
        });

        // Before the modules: they fall back to the in-process bus only when no other publisher is set.
        builder.AddBerthBus();
        foreach (var module in modules) module.Add(builder);

        var app = builder.Build();
        app.UseForwardedHeaders();
        app.UseRouting();
        // Cleartext HTTP/2 and HTTP/1.1 cannot share a port without TLS, and container
        // clients need HTTP/1.1: gRPC is served as gRPC-Web on the same port.
        app.UseGrpcWeb(new GrpcWebOptions { DefaultEnabled = true });
        app.MapDefaultEndpoints();
        foreach (var module in modules) module.Map(app);
        app.Logger.LogInformation("Berth server running modules: {Modules}", string.Join(", ", modules.Select(m => m.Name)));
        return app;
    }
}
