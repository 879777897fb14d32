using Berth.AuditLog;
using Berth.Auth;
using Berth.Collector;
using Berth.Registry;

namespace Berth.Server;

/// <summary>
/// Every module this executable knows, and the choice of which run here.
/// "--services all" (the default) runs all of them in one process; a
/// comma-separated list runs a part of a distributed deployment.
/// </summary>
public static class ModuleCatalog
{
    public const string All = "all";

    public static IReadOnlyList<ServerModule> Known { get; } =
    [
        new("registry", b => b.AddRegistry(), a => a.MapRegistry()),
        new("auth", b => b.AddAuth(), a => a.MapAuth()),
        new("auditlog", b => b.AddAuditLog(), a => a.MapAuditLog()),
        new("collector", b => b.AddCollector(), a => a.MapCollector()),
    ];

    public static IReadOnlyList<ServerModule> Select(string? services)
    {
        var requested = (services ?? All).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (requested.Length == 0 || requested.Contains(All, StringComparer.OrdinalIgnoreCase)) return Known;
        var unknown = requested.Where(r => !Known.Any(m => string.Equals(m.Name, r, StringComparison.OrdinalIgnoreCase))).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException(
                $"unknown service(s) '{string.Join("', '", unknown)}'; choose '{All}' or any of: {string.Join(", ", Known.Select(m => m.Name))}");
        return [.. Known.Where(m => requested.Contains(m.Name, StringComparer.OrdinalIgnoreCase))];
    }
}
