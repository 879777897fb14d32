namespace Berth.Registry.Collection;

/// <summary>What one collection covers: the whole registry, one namespace ("" is the namespace of one-part names) or one repository.</summary>
public sealed record CollectionScope(string? Namespace = null, string? Repository = null)
{
    public static CollectionScope All { get; } = new();

    public bool IsAll => Namespace is null && Repository is null;

    public override string ToString() => Repository ?? (Namespace is null ? "(all)" : Namespace == "" ? "(no namespace)" : Namespace);
}

/// <summary>
/// One collection. <paramref name="TimeMachineWindow"/> gives each namespace's window:
/// ended tag rows younger than it keep their manifests restorable. Uploads untouched for
/// <paramref name="StaleUploadAge"/> are abandoned. A dry run changes nothing and reports
/// what a real run would remove.
/// </summary>
public sealed record CollectionRequest(
    Guid RunId,
    CollectionScope Scope,
    bool DryRun,
    Func<string, TimeSpan> TimeMachineWindow,
    TimeSpan StaleUploadAge)
{
    /// <summary>
    /// The share of the time the collection works while no client is using the
    /// registry; after each batch it rests for the rest (0.5: as long as the batch
    /// took). 1: flat out.
    /// </summary>
    public double DutyCycle { get; init; } = 1.0;

    /// <summary>
    /// The share while clients are pushing or pulling (<see cref="ForegroundActivity"/>).
    /// Pushes share the database's write path and the processors with the
    /// collection, so a collection at its idle pace slows them down.
    /// </summary>
    public double BusyDutyCycle { get; init; } = 1.0;

    /// <summary>
    /// What the run's history says earlier attempts removed: the tally starts from it
    /// when the registry has none for the run (an attempt cut off before tallies were kept).
    /// </summary>
    public CollectionReport? RecordedSoFar { get; init; }
}
