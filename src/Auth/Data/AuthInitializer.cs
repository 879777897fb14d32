using Berth.Auth.Accounts;
using Berth.Auth.Tokens;
using Berth.Contracts;
using Berth.Contracts.Accounts;
using Berth.Data;
using Berth.Data.Outbox;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.Auth.Data;

/// <summary>
/// Before Auth takes requests: applies migrations, loads the signing keys, and
/// on an empty database creates the first superuser. Its password comes from
/// configuration or is generated into a file only the owner can read; it is never logged.
/// </summary>
public sealed class AuthInitializer(AuthDb authDb, SigningKeyStore keys, PasswordHasher hasher, IOptions<AuthOptions> options, ILogger<AuthInitializer> logger) : IHostedService
{
    public const string PasswordFileName = "initial-admin-password";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using (var db = authDb.Open())
        {
            await ModuleDatabaseSetup.MigrateAsync(db, "auth", logger, cancellationToken);
        }
        await keys.SyncAsync(cancellationToken);
        await CreateFirstAdminAsync(cancellationToken);
    }

    private async Task CreateFirstAdminAsync(CancellationToken cancellationToken)
    {
        await using (var db = authDb.Open())
        {
            if (await db.Users.AnyAsync(cancellationToken)) return;
        }
        var settings = options.Value;
        var password = settings.InitialAdminPassword;
        string? passwordFile = null;
        if (string.IsNullOrEmpty(password))
        {
            password = Secrets.NewToken();
            Directory.CreateDirectory(settings.DataDirectory);
            passwordFile = Path.Combine(settings.DataDirectory, PasswordFileName);
            var fileOptions = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
            // Created readable by the owner only, never briefly open to others.
            if (!OperatingSystem.IsWindows()) fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            await using (var writer = new StreamWriter(passwordFile, fileOptions))
                await writer.WriteAsync((password + "\n").AsMemory(), cancellationToken);
        }
        var hash = hasher.Hash(password);
        await authDb.WriteAsync(async db =>
        {
            if (await db.Users.AnyAsync(cancellationToken)) return;
            var now = authDb.Now();
            db.Namespaces.Add(new NamespaceRow { Name = settings.InitialAdmin, Kind = "user", CreatedAt = now });
            db.Users.Add(new UserRow { Name = settings.InitialAdmin, PasswordHash = hash, IsSuperuser = true, CreatedAt = now });
            db.Publish(new UserCreated(settings.InitialAdmin, "local", true) { Actor = EventActor.System });
            await db.SaveChangesAsync(cancellationToken);
            return;
        }, cancellationToken);
        if (passwordFile is not null)
            logger.LogWarning("Created superuser '{User}'; its password is in {File}. Change it and delete the file.", settings.InitialAdmin, passwordFile);
        else
            logger.LogInformation("Created superuser '{User}' with the configured password", settings.InitialAdmin);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
