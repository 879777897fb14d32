using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Berth.Data.Background;

public static class LowPrioritySetup
{
    /// <summary>One <see cref="LowPriorityScheduler"/> for every module in the process that defers work to it.</summary>
    public static IServiceCollection AddLowPriorityScheduler(this IServiceCollection services)
    {
        services.TryAddSingleton(_ => new LowPriorityScheduler("Berth background"));
        return services;
    }
}
