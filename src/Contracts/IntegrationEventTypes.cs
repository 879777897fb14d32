namespace Berth.Contracts;

/// <summary>Every integration event type, by its stable wire name (the full type name).</summary>
public static class IntegrationEventTypes
{
    public static IReadOnlyDictionary<string, Type> ByName { get; } = typeof(IntegrationEvent).Assembly.GetTypes()
        .Where(t => t.IsSubclassOf(typeof(IntegrationEvent)) && !t.IsAbstract)
        .ToDictionary(t => t.FullName!, StringComparer.Ordinal);
}
