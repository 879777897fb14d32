using Berth.Access;
using Berth.Auth.Accounts;
using Berth.Auth.Data;
using Berth.Auth.Grpc;
using Berth.Auth.Http;
using Berth.Auth.Ldap;
using Berth.Auth.Tokens;
using Berth.Data;
using Berth.Data.Outbox;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.Auth;

/// <summary>The Auth module's one way in: <c>builder.AddAuth()</c> and <c>app.MapAuth()</c>.</summary>
public static class AuthModule
{
    public static IHostApplicationBuilder AddAuth(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        var options = builder.AddModuleOptions<AuthOptions>(AuthOptions.SectionName);
        builder.AddModuleOptions<TokenSettings>(TokenSettings.SectionName);
        services.AddModuleDatabase<AuthDbContext, SqliteAuthDbContext, PostgresAuthDbContext, AuthDb>(
            options, (open, gate, clock) => new AuthDb(open, gate, clock));

        services.TryAddSingleton(TimeProvider.System);
        // Hosted services start in order: the schema must exist before the outbox dispatcher reads it.
        services.AddHostedService<AuthInitializer>();
        services.AddOutboxDispatcher<AuthDbContext, AuthDb>();
        services.AddHostedService<SigningKeySync>();
        if (!string.IsNullOrEmpty(options.Redis))
            services.AddSingleton(sp => new RedisSigningKeys(options.Redis, sp.GetRequiredService<ILogger<RedisSigningKeys>>()));

        services.AddSingleton<SigningKeyRing>();
        services.AddSingleton(sp => new TokenIssuer(sp.GetRequiredService<SigningKeyRing>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IOptions<TokenSettings>>().Value.Issuer));
        services.AddSingleton<SigningKeyStore>();
        services.AddSingleton<ITrustedKeySource, KeyRingTrustedKeys>();
        services.AddSingleton(sp => new PasswordHasher(sp.GetRequiredService<IOptions<AuthOptions>>().Value.PasswordHashIterations));
        services.AddSingleton<LoginThrottle>();
        services.AddSingleton<LdapTeamSync>();
        if (options.Ldap.Enabled) services.AddSingleton<ILdapUserStore, LdapUserStore>();
        services.AddSingleton<CredentialVerifier>();
        services.AddSingleton<PermissionResolver>();
        services.AddSingleton<AccessGrants>();
        services.AddSingleton<RefreshTokens>();
        services.AddSingleton<IAccessDirectory, AccessDirectory>();
        services.AddSingleton<LoginAudit>();
        services.AddSingleton<TokenEndpoint>();

        services.AddGrpc(o => o.EnableDetailedErrors = false).AddJsonTranscoding();
        return builder;
    }

    public static IEndpointRouteBuilder MapAuth(this IEndpointRouteBuilder app)
    {
        var tokens = app.ServiceProvider.GetRequiredService<TokenEndpoint>();
        app.MapGet("/v2/auth", tokens.GetAsync);
        app.MapPost("/v2/auth", tokens.PostAsync);
        app.MapGet("/v2/auth/jwks", tokens.JwksAsync);
        app.MapGrpcService<AuthGrpcService>();
        // Internal: for modules in other processes; the Gateway routes nothing to it.
        app.MapGrpcService<AccessGrpcService>();
        return app;
    }
}
