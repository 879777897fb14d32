namespace Berth.Registry.Services;

/// <summary>A namespace's storage limits in bytes (deduplicated: a blob counts once however many of its repositories link it).</summary>
public sealed record QuotaLimits(long? WarningBytes, long? RejectBytes);

/// <summary>Each namespace's storage quota: the collector module owns them; without it there are none.</summary>
public interface IQuotaPolicy
{
    ValueTask<QuotaLimits?> LimitsOfAsync(string @namespace, CancellationToken cancellationToken);
}

public sealed class NoQuotas : IQuotaPolicy
{
    public ValueTask<QuotaLimits?> LimitsOfAsync(string @namespace, CancellationToken cancellationToken) => ValueTask.FromResult<QuotaLimits?>(null);
}
