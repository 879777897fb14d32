using Xunit;

namespace Berth.TestSupport;

/// <summary>
/// For tests that need a server or tool outside the process. Where it is missing
/// the test is skipped with the reason, except under CI=true, where a missing
/// server means the CI script is broken, so the test fails.
/// </summary>
public static class RequiredServer
{
    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static void Require(bool available, string reason)
    {
        if (available) return;
        if (InCi) Assert.Fail($"required under CI=true: {reason}");
        Skip.If(true, reason);
    }

    /// <summary>The PostgreSQL connection string from BERTH_TEST_POSTGRES (set by .ci/run), or skip/fail.</summary>
    public static string Postgres()
    {
        var connectionString = Environment.GetEnvironmentVariable("BERTH_TEST_POSTGRES");
        Require(!string.IsNullOrEmpty(connectionString), "PostgreSQL is not configured: set BERTH_TEST_POSTGRES to a connection string (.ci/run starts one)");
        return connectionString!;
    }

    public static string Tool(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH")?.Split(':')
            .Select(dir => System.IO.Path.Combine(dir, name)).FirstOrDefault(File.Exists);
        Require(path is not null, $"'{name}' is not installed (apt-get install {name})");
        return path!;
    }
}
