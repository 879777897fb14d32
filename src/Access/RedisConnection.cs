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
}
