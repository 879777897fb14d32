using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.AppHost.Infrastructure;

/// <summary>
/// What the distributed topology's services share: a database per service,
/// RabbitMQ and Redis, as connection strings, and the resources to wait for.
/// One switch, Berth:Infrastructure, picks where they come from:
/// "containers" (Aspire's container resources; needs a container runtime),
/// "local" (the default: the locally installed servers, started by the AppHost
/// as executables with their data under the data directory), or "external"
/// (connection strings the operator gives: ConnectionStrings:registry-db,
/// auth-db, auditlog-db, collector-db, rabbitmq and redis, and optionally elasticsearch).
/// Elasticsearch, for the audit log, comes only from containers or the operator:
/// no local server is started for it.
/// </summary>
public sealed record SharedInfrastructure(
    ReferenceExpression RegistryDatabase,
    ReferenceExpression AuthDatabase,
    ReferenceExpression AuditLogDatabase,
    ReferenceExpression CollectorDatabase,
    ReferenceExpression RabbitMq,
    ReferenceExpression Redis,
    ReferenceExpression? Elasticsearch,
    IReadOnlyList<IResourceBuilder<IResource>> Dependencies)
{
    public static SharedInfrastructure Add(IDistributedApplicationBuilder builder, string dataDirectory) =>
        (builder.Configuration["Berth:Infrastructure"] ?? "local") switch
        {
            "containers" => Containers(builder),
            "local" => Local(builder, dataDirectory),
            "external" => External(builder),
            var other => throw new InvalidOperationException($"Berth:Infrastructure must be containers, local or external, not '{other}'"),
        };

    private static SharedInfrastructure Containers(IDistributedApplicationBuilder builder)
    {
        var postgres = builder.AddPostgres("postgres");
        var registryDb = postgres.AddDatabase("registry-db", databaseName: "berth_registry");
        var authDb = postgres.AddDatabase("auth-db", databaseName: "berth_auth");
        var auditLogDb = postgres.AddDatabase("auditlog-db", databaseName: "berth_auditlog");
        var collectorDb = postgres.AddDatabase("collector-db", databaseName: "berth_collector");
        var rabbit = builder.AddRabbitMQ("rabbitmq");
        var redis = builder.AddRedis("redis");
        var elasticsearch = builder.AddContainer("elasticsearch", "docker.elastic.co/elasticsearch/elasticsearch", "9.1.0")
            .WithEnvironment("discovery.type", "single-node")
            .WithEnvironment("xpack.security.enabled", "false")
            .WithEnvironment("ES_JAVA_OPTS", "-Xms512m -Xmx512m")
            .WithHttpEndpoint(targetPort: 9200, name: "http");
        return new(registryDb.Resource.ConnectionStringExpression, authDb.Resource.ConnectionStringExpression,
            auditLogDb.Resource.ConnectionStringExpression, collectorDb.Resource.ConnectionStringExpression,
            rabbit.Resource.ConnectionStringExpression, redis.Resource.ConnectionStringExpression,
            ReferenceExpression.Create($"{elasticsearch.GetEndpoint("http")}"),
            [registryDb, authDb, auditLogDb, collectorDb, rabbit, redis]);
    }

    private static SharedInfrastructure Local(IDistributedApplicationBuilder builder, string dataDirectory)
    {
        var ports = builder.Configuration.GetSection("Berth:Ports");
        int Port(string name, int fallback) => ports.GetValue(name, fallback);
        var (pgPort, redisPort, rabbitPort, rabbitDistributionPort) = (Port("Postgres", 55440), Port("Redis", 56390), Port("RabbitMq", 55690), Port("RabbitMqDistribution", 55691));
        var infrastructure = Path.Combine(dataDirectory, "infrastructure");
        Directory.CreateDirectory(infrastructure);

        var postgres = builder.AddExecutable("postgres", "/bin/sh", infrastructure,
                Path.Combine(builder.AppHostDirectory, "Infrastructure", "postgres.sh"), Path.Combine(infrastructure, "postgres"),
                pgPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "berth_registry", "berth_auth", "berth_auditlog", "berth_collector")
            .WithHealthCheck(Ready(builder, "postgres", pgPort));
        var redis = builder.AddExecutable("redis", "redis-server", infrastructure,
                "--port", PortText(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", infrastructure)
            .WithHealthCheck(Ready(builder, "redis", redisPort));
        var rabbitHome = Directory.CreateDirectory(Path.Combine(infrastructure, "rabbitmq")).FullName;
        File.WriteAllText(Path.Combine(rabbitHome, "enabled_plugins"), "[].\n");
        var rabbit = builder.AddExecutable("rabbitmq", "/usr/lib/rabbitmq/bin/rabbitmq-server", rabbitHome)
            .WithEnvironment("HOME", rabbitHome)
            .WithEnvironment("RABBITMQ_NODENAME", "berth" + PortText(rabbitPort) + "@localhost")
            .WithEnvironment("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1")
            .WithEnvironment("RABBITMQ_NODE_PORT", PortText(rabbitPort))
            .WithEnvironment("RABBITMQ_DIST_PORT", PortText(rabbitDistributionPort))
            .WithEnvironment("RABBITMQ_MNESIA_BASE", Path.Combine(rabbitHome, "mnesia"))
            .WithEnvironment("RABBITMQ_LOG_BASE", Path.Combine(rabbitHome, "log"))
            .WithEnvironment("RABBITMQ_ENABLED_PLUGINS_FILE", Path.Combine(rabbitHome, "enabled_plugins"))
            .WithHealthCheck(Ready(builder, "rabbitmq", rabbitPort));

        const string pg = "Host=127.0.0.1;Username=postgres";
        return new(ReferenceExpression.Create($"{pg};Port={PortText(pgPort)};Database=berth_registry"),
            ReferenceExpression.Create($"{pg};Port={PortText(pgPort)};Database=berth_auth"),
            ReferenceExpression.Create($"{pg};Port={PortText(pgPort)};Database=berth_auditlog"),
            ReferenceExpression.Create($"{pg};Port={PortText(pgPort)};Database=berth_collector"),
            ReferenceExpression.Create($"amqp://guest:guest@127.0.0.1:{PortText(rabbitPort)}/"),
            ReferenceExpression.Create($"127.0.0.1:{PortText(redisPort)}"),
            null,
            [postgres, redis, rabbit]);
    }

    private static SharedInfrastructure External(IDistributedApplicationBuilder builder)
    {
        string Required(string name) => builder.Configuration.GetConnectionString(name)
            ?? throw new InvalidOperationException($"Berth:Infrastructure is 'external' but ConnectionStrings:{name} is not set");
        var elasticsearch = builder.Configuration.GetConnectionString("elasticsearch");
        return new(ReferenceExpression.Create($"{Required("registry-db")}"), ReferenceExpression.Create($"{Required("auth-db")}"),
            ReferenceExpression.Create($"{Required("auditlog-db")}"), ReferenceExpression.Create($"{Required("collector-db")}"),
            ReferenceExpression.Create($"{Required("rabbitmq")}"), ReferenceExpression.Create($"{Required("redis")}"),
            string.IsNullOrEmpty(elasticsearch) ? null : ReferenceExpression.Create($"{elasticsearch}"), []);
    }

    /// <summary>Registers a readiness check for a local server's port and returns its key.</summary>
    private static string Ready(IDistributedApplicationBuilder builder, string name, int port)
    {
        var key = $"{name}-ready";
        builder.Services.AddHealthChecks().AddCheck(key, new TcpReadyCheck(port));
        return key;
    }

    private static string PortText(int port) => port.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
