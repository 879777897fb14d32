using Berth.Gateway;
using Berth.Server;

namespace Berth.TestSupport;

/// <summary>Starts the real Server and Gateway in-process, the way their executables do.</summary>
public static class BerthHosts
{
    /// <summary>The Server on the embedded default (SQLite, filesystem) with its data in <paramref name="dataDirectory"/>.</summary>
    public static Task<RunningApp> StartServerAsync(string dataDirectory, params string[] extraArgs) =>
        RunningApp.StartAsync(ServerApp.Build, ["--services", "all", "--Registry:DataDirectory", dataDirectory, .. extraArgs]);

    /// <summary>The Server with its metadata in PostgreSQL.</summary>
    public static Task<RunningApp> StartServerOnPostgresAsync(string dataDirectory, string connectionString) =>
        StartServerAsync(dataDirectory, "--Registry:DatabaseProvider", "postgres", "--Registry:ConnectionString", connectionString);

    /// <summary>The Gateway, routing every registry route to <paramref name="server"/>.</summary>
    public static Task<RunningApp> StartGatewayAsync(Uri server, params string[] extraArgs) =>
        RunningApp.StartAsync(GatewayApp.Build, ["--ReverseProxy:Clusters:registry:Destinations:server:Address", server.ToString(), .. extraArgs]);
}
