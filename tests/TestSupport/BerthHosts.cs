using Berth.Gateway;
using Berth.Server;

namespace Berth.TestSupport;

/// <summary>Starts the real Server and Gateway in-process, the way their executables do.</summary>
public static class BerthHosts
{
    /// <summary>The password of the first superuser ("admin") in servers these helpers start.</summary>
    public const string AdminPassword = "admin-password-for-tests";

    /// <summary>
    /// The Server on the embedded default (SQLite, filesystem) with its data in
    /// <paramref name="dataDirectory"/>, as an open registry (no tokens): the
    /// registry protocol tests. <see cref="StartSecuredServerAsync"/> has tokens on.
    /// </summary>
    public static Task<RunningApp> StartServerAsync(string dataDirectory, params string[] extraArgs) =>
        StartSecuredServerAsync(dataDirectory, ["--Registry:Authentication", "none", .. extraArgs]);

    /// <summary>
    /// The Server as it ships: every /v2 and API call needs a token or credentials.
    /// The superuser is "admin" with <see cref="AdminPassword"/>; password hashing
    /// is cheapened so tests can make many accounts.
    /// </summary>
    public static Task<RunningApp> StartSecuredServerAsync(string dataDirectory, params string[] extraArgs) =>
        RunningApp.StartAsync(ServerApp.Build,
        [
            "--services", "all", "--Registry:DataDirectory", dataDirectory, "--Auth:DataDirectory", dataDirectory, "--AuditLog:DataDirectory", dataDirectory, "--Collector:DataDirectory", dataDirectory,
            "--Auth:InitialAdminPassword", AdminPassword, "--Auth:PasswordHashIterations", "1000", .. extraArgs,
        ]);

    /// <summary>The Server with its metadata in PostgreSQL.</summary>
    public static Task<RunningApp> StartServerOnPostgresAsync(string dataDirectory, string connectionString) =>
        StartServerAsync(dataDirectory, "--Registry:DatabaseProvider", "postgres", "--Registry:ConnectionString", connectionString);

    /// <summary>The Gateway, routing every registry and auth route to <paramref name="server"/>.</summary>
    public static Task<RunningApp> StartGatewayAsync(Uri server, params string[] extraArgs) =>
        RunningApp.StartAsync(GatewayApp.Build,
        [
            "--ReverseProxy:Clusters:registry:Destinations:server:Address", server.ToString(),
            "--ReverseProxy:Clusters:auth:Destinations:server:Address", server.ToString(),
            "--ReverseProxy:Clusters:auditlog:Destinations:server:Address", server.ToString(), .. extraArgs,
        ]);
}
