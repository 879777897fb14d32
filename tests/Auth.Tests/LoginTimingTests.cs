using System.Diagnostics;
using System.Net;
using Berth.TestSupport;

namespace Berth.Auth.Tests;

/// <summary>A server with realistic password hashing cost, so the time a login takes is dominated by it.</summary>
public sealed class CostlyHashingServer : SecuredServer
{
    public CostlyHashingServer() => Arguments = ["--Auth:PasswordHashIterations", "200000"];
}

/// <summary>
/// Whether an account exists must not show in how long a failed login takes:
/// an unknown name spends the same hashing as a wrong password. The check is
/// coarse (half the time or more) so scheduling noise cannot fail it, while
/// skipping the hash (a few milliseconds against ~100) would.
/// </summary>
public sealed class LoginTimingTests(CostlyHashingServer server) : IClassFixture<CostlyHashingServer>
{
    [Fact]
    public async Task Unknown_accounts_cost_as_much_as_wrong_passwords()
    {
        var known = SecuredServer.UniqueName("timed");
        await server.CreateUserAsync(known);
        var unknown = await MedianAsync(() => FailAsync(SecuredServer.UniqueName("nobody")));
        var wrongPassword = await MedianAsync(() => FailAsync(known));
        Assert.True(unknown >= wrongPassword / 2, $"unknown account {unknown.TotalMilliseconds:F0} ms vs wrong password {wrongPassword.TotalMilliseconds:F0} ms");
    }

    private async Task<TimeSpan> FailAsync(string user)
    {
        using var http = server.As(user, "not-the-password");
        var watch = Stopwatch.StartNew();
        using var response = await http.GetAsync(RegistryLogin.TokenPath());
        watch.Stop();
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        return watch.Elapsed;
    }

    /// <summary>Median of three tries; each try uses a fresh name or stays under the throttle (three failures per account).</summary>
    private static async Task<TimeSpan> MedianAsync(Func<Task<TimeSpan>> measure)
    {
        var samples = new List<TimeSpan>();
        for (var i = 0; i < 3; i++) samples.Add(await measure());
        samples.Sort();
        return samples[1];
    }
}
