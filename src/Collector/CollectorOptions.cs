using System.ComponentModel.DataAnnotations;
using Berth.Data;

namespace Berth.Collector;

/// <summary>Settings of the collector module (garbage collection and its policies), bound from the "Collector" section.</summary>
public sealed class CollectorOptions : IModuleDatabaseOptions
{
    public const string SectionName = "Collector";

    /// <summary>Where the embedded default keeps the collector's database (policies and run history).</summary>
    [Required]
    public string DataDirectory { get; set; } = "data";

    [RegularExpression("^(sqlite|postgres)$", ErrorMessage = "Collector:DatabaseProvider must be 'sqlite' or 'postgres'")]
    public string DatabaseProvider { get; set; } = "sqlite";

    /// <summary>Connection string; for sqlite it defaults to a file in the data directory.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Where the Auth module runs when it is not in this process: it says who calls the API.</summary>
    public string? AuthUrl { get; set; }

    /// <summary>How often a whole-registry collection runs on its own; 0 runs only on demand.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "30.00:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The time-machine window of a namespace that has none of its own (Quay's default: two weeks).</summary>
    public TimeSpan DefaultTimeMachineWindow { get; set; } = TimeSpan.FromDays(14);

    /// <summary>Namespaces with a window of their own (each one of <see cref="AllowedTimeMachineWindows"/>).</summary>
    public Dictionary<string, TimeSpan> TimeMachineWindows { get; set; } = [];

    /// <summary>The windows a namespace may choose from.</summary>
    public TimeSpan[] AllowedTimeMachineWindows { get; set; } =
        [TimeSpan.Zero, TimeSpan.FromDays(1), TimeSpan.FromDays(7), TimeSpan.FromDays(14), TimeSpan.FromDays(28)];

    /// <summary>An upload nobody wrote to for this long is abandoned and removed.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "365.00:00:00")]
    public TimeSpan StaleUploadAge { get; set; } = TimeSpan.FromDays(1);

    /// <summary>
    /// The share of time a collection works while no client is pushing or pulling;
    /// it rests for the rest after each batch. 1: flat out.
    /// </summary>
    [Range(0.05, 1.0)]
    public double DutyCycle { get; set; } = 0.5;

    /// <summary>
    /// The share while clients are pushing or pulling, so they keep most of the
    /// machine (see bench/gc.sh).
    /// </summary>
    [Range(0.01, 1.0)]
    public double BusyDutyCycle { get; set; } = 0.05;

    public string ResolveConnectionString() =>
        ConnectionString ?? (DatabaseProvider == "sqlite"
            ? $"Data Source={Path.Combine(DataDirectory, "collector.db")}"
            : throw new InvalidOperationException("Collector:ConnectionString is required for the postgres provider"));
}
