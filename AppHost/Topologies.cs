using Berth.AppHost.Infrastructure;

namespace Berth.AppHost;

/// <summary>
/// The deployments the AppHost can describe (Berth:Topology). Standalone: the
/// Gateway in front of one Server running every module on the embedded default
/// (SQLite, filesystem, in-memory bus), so nothing else has to run. Distributed:
/// Auth and two registry instances (each with the collector) as their own Server
/// processes, a database per service, RabbitMQ for events, Redis as the shared
/// cache tier, the audit log (with Elasticsearch where containers run), one Gateway.
/// </summary>
public static class Topologies
{
    public static void Add(IDistributedApplicationBuilder builder)
    {
        switch (builder.Configuration["Berth:Topology"] ?? "standalone")
        {
            case "standalone": AddStandalone(builder); break;
            case "distributed": AddDistributed(builder); break;
            case var other: throw new InvalidOperationException($"Berth:Topology must be standalone or distributed, not '{other}'");
        }
    }

    public static void AddStandalone(IDistributedApplicationBuilder builder)
    {
        var dataDirectory = builder.Configuration["Berth:DataDirectory"]
            ?? Path.Combine(builder.AppHostDirectory, ".data", "standalone");

        var server = builder.AddProject<Projects.Server>("server", launchProfileName: "http")
            .WithArgs("--services", "all")
            .WithEnvironment("Registry__DataDirectory", dataDirectory)
            .WithEnvironment("Auth__DataDirectory", dataDirectory)
            .WithEnvironment("AuditLog__DataDirectory", dataDirectory)
            .WithEnvironment("Collector__DataDirectory", dataDirectory)
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
            .WithEnvironment("ReverseProxy__Clusters__auditlog__Destinations__server__Address", "http://server")
            .WithEnvironment("Gateway__BlobHandoffRoot", Path.Combine(dataDirectory, "storage"))
            .WithHttpHealthCheck("/health")
            .WithExternalHttpEndpoints();
    }

    public static void AddDistributed(IDistributedApplicationBuilder builder)
    {
        var dataDirectory = builder.Configuration["Berth:DataDirectory"]
            ?? Path.Combine(builder.AppHostDirectory, ".data", "distributed");
        var shared = SharedInfrastructure.Add(builder, dataDirectory);
        var storage = Path.Combine(dataDirectory, "storage");

        var auth = builder.AddProject<Projects.Server>("auth", launchProfileName: null)
            .WithHttpEndpoint(name: "http")
            .WithArgs("--services", "auth")
            .WithEnvironment("Auth__DataDirectory", Path.Combine(dataDirectory, "auth"))
            .WithEnvironment("Auth__DatabaseProvider", "postgres")
            .WithEnvironment("Auth__ConnectionString", shared.AuthDatabase)
            .WithEnvironment("Auth__Redis", shared.Redis)
            .WithEnvironment("Bus__Transport", "rabbitmq")
            .WithEnvironment("Bus__RabbitMqUrl", shared.RabbitMq)
            .WithHttpHealthCheck("/health");
        if (builder.Configuration["Berth:AdminPassword"] is { Length: > 0 } adminPassword)
            auth.WithEnvironment("Auth__InitialAdminPassword", adminPassword);
        foreach (var dependency in shared.Dependencies) auth.WaitFor(dependency);

        var registries = new[] { "registry-a", "registry-b" }.Select(name =>
        {
            var registry = builder.AddProject<Projects.Server>(name, launchProfileName: null)
                .WithHttpEndpoint(name: "http")
                // The collector runs next to each registry: its lease lets one collect at a time.
                .WithArgs("--services", "registry,collector")
                .WithEnvironment("Registry__DataDirectory", Path.Combine(dataDirectory, name))
                .WithEnvironment("Collector__DataDirectory", Path.Combine(dataDirectory, name))
                .WithEnvironment("Collector__DatabaseProvider", "postgres")
                .WithEnvironment("Collector__ConnectionString", shared.CollectorDatabase)
                .WithEnvironment("Collector__AuthUrl", auth.GetEndpoint("http"))
                .WithEnvironment("Registry__StorageDirectory", storage)
                .WithEnvironment("Registry__BlobHandoff", "true")
                .WithEnvironment("Registry__DatabaseProvider", "postgres")
                .WithEnvironment("Registry__ConnectionString", shared.RegistryDatabase)
                .WithEnvironment("Registry__Redis", shared.Redis)
                .WithEnvironment("Registry__AuthUrl", auth.GetEndpoint("http"))
                .WithEnvironment("Bus__Transport", "rabbitmq")
                .WithEnvironment("Bus__RabbitMqUrl", shared.RabbitMq)
                .WithHttpHealthCheck("/health")
                .WaitFor(auth);
            foreach (var dependency in shared.Dependencies) registry.WaitFor(dependency);
            return registry;
        }).ToList();

        var auditLog = builder.AddProject<Projects.Server>("auditlog", launchProfileName: null)
            .WithHttpEndpoint(name: "http")
            .WithArgs("--services", "auditlog")
            .WithEnvironment("AuditLog__DataDirectory", Path.Combine(dataDirectory, "auditlog"))
            .WithEnvironment("AuditLog__DatabaseProvider", "postgres")
            .WithEnvironment("AuditLog__ConnectionString", shared.AuditLogDatabase)
            .WithEnvironment("AuditLog__AuthUrl", auth.GetEndpoint("http"))
            .WithEnvironment("Bus__Transport", "rabbitmq")
            .WithEnvironment("Bus__RabbitMqUrl", shared.RabbitMq)
            .WithHttpHealthCheck("/health")
            .WaitFor(auth);
        if (shared.Elasticsearch is { } elasticsearch) auditLog.WithEnvironment("AuditLog__Elasticsearch__Url", elasticsearch);
        foreach (var dependency in shared.Dependencies) auditLog.WaitFor(dependency);

        builder.AddProject<Projects.Gateway>("gateway", launchProfileName: "http")
            .WithEnvironment("ReverseProxy__Clusters__registry__Destinations__server__Address", registries[0].GetEndpoint("http"))
            .WithEnvironment("ReverseProxy__Clusters__registry__Destinations__second__Address", registries[1].GetEndpoint("http"))
            .WithEnvironment("ReverseProxy__Clusters__auth__Destinations__server__Address", auth.GetEndpoint("http"))
            .WithEnvironment("ReverseProxy__Clusters__auditlog__Destinations__server__Address", auditLog.GetEndpoint("http"))
            .WithEnvironment("Gateway__BlobHandoffRoot", storage)
            .WaitFor(registries[0])
            .WaitFor(registries[1])
            .WithHttpHealthCheck("/health")
            .WithExternalHttpEndpoints();
    }
}
