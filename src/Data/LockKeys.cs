namespace Berth.Data;

/// <summary>PostgreSQL advisory lock keys from names, the same in every process.</summary>
public static class LockKeys
{
    /// <summary>FNV-1a, 64 bits: stable across processes, unlike string.GetHashCode.</summary>
    public static long Of(string name)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in name) hash = (hash ^ c) * 1099511628211UL;
        return unchecked((long)hash);
    }
}
