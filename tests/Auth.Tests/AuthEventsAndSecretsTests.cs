using System.Collections.Concurrent;
using System.Net;
using Berth.Contracts;
using Berth.Contracts.Accounts;
using Berth.Data.Outbox;
using Berth.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Berth.Auth.Tests;

/// <summary>Every account change publishes its integration event (through the outbox), with who did it and from where.</summary>
public sealed class AuthEventsAndSecretsTests(SecuredServer server) : IClassFixture<SecuredServer>
{
    [Fact]
    public async Task Each_change_publishes_an_event_with_who_and_from_where()
    {
        var received = new ConcurrentQueue<IntegrationEvent>();
        var bus = server.Server.App.Services.GetRequiredService<InProcessEventBus>();
        using var subscription = bus.Subscribe((e, _) => { received.Enqueue(e); return Task.CompletedTask; });

        var user = SecuredServer.UniqueName("evented");
        var password = await server.CreateUserAsync(user);
        var org = SecuredServer.UniqueName("evorg");
        using var api = server.As(user, password);
        await server.CallOkAsync(api, HttpMethod.Post, "/api/v1/organizations", new { name = org });
        await server.CallOkAsync(api, HttpMethod.Put, $"/api/v1/organizations/{org}/teams/devs", new { role = "member" });
        await server.CallOkAsync(api, HttpMethod.Put, $"/api/v1/organizations/{org}/teams/devs/members/{user}");
        await server.CallOkAsync(api, HttpMethod.Put, $"/api/v1/namespaces/{org}/robots/bot");
        var token = await server.CallOkAsync(api, HttpMethod.Post, "/api/v1/user/tokens", new { title = "t" });
        await server.CallOkAsync(api, HttpMethod.Delete, $"/api/v1/user/tokens/{token.GetProperty("token").GetProperty("id").GetString()}");
        using (var push = await server.WithTokenAsync(user, password, $"repository:{org}/app:pull,push"))
            await SecuredServer.PushImageAsync(push, $"{org}/app", "v1");
        await server.CallOkAsync(api, HttpMethod.Put, $"/api/v1/permissions/{org}/app", new { subjectKind = "team", subject = "devs", role = "write" });
        await server.CallOkAsync(api, HttpMethod.Put, $"/api/v1/visibility/{org}/app", new { visibility = "public" });
        await server.CallOkAsync(api, HttpMethod.Delete, $"/api/v1/namespaces/{org}/robots/bot");
        await server.CallOkAsync(api, HttpMethod.Delete, $"/api/v1/organizations/{org}/teams/devs/members/{user}");
        using (var wrong = server.As(user, "wrong-password"))
            Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync(RegistryLogin.TokenPath())).StatusCode);

        var expected = new[]
        {
            typeof(UserCreated), typeof(OrganizationCreated), typeof(TeamCreated), typeof(TeamMemberAdded), typeof(RobotCreated),
            typeof(AppTokenCreated), typeof(AppTokenRevoked), typeof(RepositoryRegistered), typeof(RepositoryPermissionSet),
            typeof(RepositoryVisibilityChanged), typeof(RobotDeleted), typeof(TeamMemberRemoved), typeof(LoginFailed),
        };
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline && !expected.All(t => received.Any(e => e.GetType() == t && Mentions(e, user, org))))
            await Task.Delay(50);
        foreach (var type in expected)
            Assert.True(received.Any(e => e.GetType() == type && Mentions(e, user, org)), $"no {type.Name} event");

        var visibility = received.OfType<RepositoryVisibilityChanged>().Single(e => e.Repository == $"{org}/app");
        Assert.Equal(user, visibility.Actor.Name);
        Assert.Equal("user", visibility.Actor.Kind);
        Assert.False(string.IsNullOrEmpty(visibility.Actor.Address));
        Assert.Equal(received.Count, received.Select(e => e.EventId).Distinct().Count());
    }

    private static bool Mentions(IntegrationEvent e, string user, string org)
    {
        var text = System.Text.Json.JsonSerializer.Serialize(e, e.GetType());
        return text.Contains(user, StringComparison.Ordinal) || text.Contains(org, StringComparison.Ordinal);
    }
}

/// <summary>A server that logs everything, down to Debug (EF commands included).</summary>
public sealed class VerboseSecuredServer : SecuredServer
{
    public VerboseSecuredServer() => Arguments = ["--Logging:LogLevel:Default", "Debug", "--Logging:LogLevel:Microsoft.AspNetCore", "Debug"];
}

/// <summary>With every log line on, no password, app token, robot token or access token appears in any of them.</summary>
public sealed class SecretsInLogsTests(VerboseSecuredServer server) : IClassFixture<VerboseSecuredServer>
{
    [Fact]
    public async Task Passwords_and_tokens_never_appear_in_logs()
    {
        var captured = new CapturingLoggerProvider();
        server.Server.App.Services.GetRequiredService<ILoggerFactory>().AddProvider(captured);
        var user = SecuredServer.UniqueName("secret");
        var password = await server.CreateUserAsync(user);
        using var api = server.As(user, password);
        var appToken = (await server.CallOkAsync(api, HttpMethod.Post, "/api/v1/user/tokens", new { title = "t" })).GetProperty("secret").GetString()!;
        var robotToken = (await server.CallOkAsync(api, HttpMethod.Put, $"/api/v1/namespaces/{user}/robots/bot")).GetProperty("token").GetString()!;
        const string wrongPassword = "this-wrong-password-must-not-be-logged";
        using (var wrong = server.As(user, wrongPassword))
            await wrong.GetAsync(RegistryLogin.TokenPath());
        var accessToken = await RegistryLogin.TokenAsync(server.Anonymous(), user, appToken, $"repository:{user}/x:pull,push");
        using (var robot = server.As($"{user}+bot", robotToken))
            await robot.GetAsync(RegistryLogin.TokenPath());

        var text = string.Join("\n", captured.Lines);
        Assert.NotEmpty(captured.Lines);
        foreach (var secret in new[] { password, appToken, robotToken, wrongPassword, accessToken, SecuredServer.AdminPassword })
            Assert.DoesNotContain(secret, text);
    }

    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        public ConcurrentQueue<string> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose() { }

        private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                owner.Lines.Enqueue($"{category}: {formatter(state, exception)} {exception}");
        }
    }
}
