using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Berth.Data;

/// <summary>
/// Per-connection SQLite settings. WAL (set once on the file) lets readers run
/// beside the writer; synchronous=NORMAL in WAL mode is safe against process
/// crashes and cuts an fsync from every commit. A module may add its own
/// (<paramref name="modulePragmas"/>, whole statements).
/// </summary>
public sealed class SqlitePragmas(string modulePragmas = "") : DbConnectionInterceptor
{
    private readonly string _pragmas = "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=30000; " + modulePragmas;

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        using var command = connection.CreateCommand();
        command.CommandText = _pragmas;
        command.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = _pragmas;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
