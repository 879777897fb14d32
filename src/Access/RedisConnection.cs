using StackExchange.Redis;

namespace Berth.Access;

/// <summary>
/// How Berth connects to Redis, which only ever speeds things up: a process starts
/// and keeps working while Redis is away, a command then fails at once instead of
/// queueing behind the outage, and the connection comes back by itself.
/// </summary>
public static class RedisConnection
{
    public static Task<ConnectionMultiplexer> ConnectAsync(string configuration) => ConnectionMultiplexer.ConnectAsync(Options(configuration));

    public static ConfigurationOptions Options(string configuration)
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = options.SyncTimeout = options.AsyncTimeout = 2000;
        options.BacklogPolicy = BacklogPolicy.FailFast;
        options.ReconnectRetryPolicy = new LinearRetry(1000);
        return options;
    }

    /// <summary>
    /// Whether a command failed because Redis is away or slow. Besides its own
    /// exceptions and timeouts, the client cancels commands it gives up on (seen
    /// under load: a read's task canceled though no token was passed), and that
    /// is an outage too, not the caller stopping.
    /// </summary>
    public static bool IsOutage(Exception e) => e is RedisException or TimeoutException or TaskCanceledException;
}
