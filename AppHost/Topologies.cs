namespace Berth.AppHost;

/// <summary>
/// The deployments the AppHost can describe. Standalone: the Gateway in front of
/// one Server running every module on the embedded default (SQLite, filesystem,
/// in-memory bus), so nothing else has to run.
/// </summary>
public static class Topologies
{
    public static void AddStandalone(IDistributedApplicationBuilder builder)
    {
        var dataDirectory = builder.Configuration["Berth:DataDirectory"]
            ?? Path.Combine(builder.AppHostDirectory, ".data", "standalone");

        var server = builder.AddProject<Projects.Server>("server", launchProfileName: "http")
            .WithArgs("--services", "all")
            .WithEnvironment("Registry__DataDirectory", dataDirectory)
            .WithEnvironment("Auth__DataDirectory", dataDirectory)
            // Gateway and Server share this host's disk: the gateway sends whole blobs itself.
            .WithEnvironment("Registry__BlobHandoff", "true")
            .WithHttpHealthCheck("/health");
        // Unset, the Server generates the first superuser's password into its data directory.
        if (builder.Configuration["Berth:AdminPassword"] is { Length: > 0 } adminPassword)
            server.WithEnvironment("Auth__InitialAdminPassword", adminPassword);

        builder.AddProject<Projects.Gateway>("gateway", launchProfileName: "http")
            .WithReference(server)
            .WaitFor(server)
            // "http://server" is resolved by service discovery to the Server's endpoint.
            .WithEnvironment("ReverseProxy__Clusters__registry__Destinations__server__Address", "http://server")
            .WithEnvironment("ReverseProxy__Clusters__auth__Destinations__server__Address", "http://server")
            .WithEnvironment("Gateway__BlobHandoffRoot", Path.Combine(dataDirectory, "storage"))
            .WithHttpHealthCheck("/health")
            .WithExternalHttpEndpoints();
    }
}
