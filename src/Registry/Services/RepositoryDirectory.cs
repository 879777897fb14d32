using System.Collections.Concurrent;
using Berth.Contracts.Registry;
using Berth.Data.Outbox;
using Berth.Registry.Data;
using Microsoft.EntityFrameworkCore;

namespace Berth.Registry.Services;

/// <summary>Maps repository names to ids. Ids never change for a name, so found ids are kept in memory.</summary>
public sealed class RepositoryDirectory(RegistryDb registryDb, EventActors actors)
{
    private readonly ConcurrentDictionary<string, long> _ids = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<long, string> _names = new();

    /// <summary>The name of a repository by id (ids are never reused, so found names are kept).</summary>
    public async ValueTask<string> NameOfAsync(long repositoryId, CancellationToken cancellationToken)
    {
        if (_names.TryGetValue(repositoryId, out var cached)) return cached;
        await using var db = registryDb.Open();
        var name = await db.Repositories.AsNoTracking().Where(r => r.Id == repositoryId).Select(r => r.Name).FirstAsync(cancellationToken);
        _names.TryAdd(repositoryId, name);
        return name;
    }

    public async ValueTask<long?> FindAsync(string name, CancellationToken cancellationToken)
    {
        if (_ids.TryGetValue(name, out var cached)) return cached;
        await using var db = registryDb.Open();
        var id = await db.Repositories.AsNoTracking().Where(r => r.Name == name).Select(r => (long?)r.Id).FirstOrDefaultAsync(cancellationToken);
        if (id is { } found) _ids.TryAdd(name, found);
        return id;
    }

    /// <summary>The repository's id, creating the repository on first push.</summary>
    public async ValueTask<long> GetOrCreateAsync(string name, CancellationToken cancellationToken)
    {
        if (await FindAsync(name, cancellationToken) is { } existing) return existing;
        var now = registryDb.Now();
        var created = await registryDb.WriteAsync(async db =>
        {
            var inserted = await db.Database.ExecuteSqlInterpolatedAsync(
                $"""INSERT INTO "Repositories" ("Name", "CreatedAt") VALUES ({name}, {now}) ON CONFLICT ("Name") DO NOTHING""", cancellationToken);
            if (inserted > 0)
            {
                db.Publish(new RepositoryCreated(name) { Actor = actors.Current() });
                await db.SaveChangesAsync(cancellationToken);
            }
            return await db.Repositories.Where(r => r.Name == name).Select(r => r.Id).FirstAsync(cancellationToken);
        }, cancellationToken);
        _ids.TryAdd(name, created);
        return created;
    }
}
