using System.Reflection;
using System.Text.Json;
using Berth.AuditLog.Recording;
using Berth.Contracts;
using Berth.Contracts.Registry;

namespace Berth.AuditLog.Tests;

/// <summary>Every integration event kind becomes exactly one entry with the right kind and fields; a batch of pulls one per pull.</summary>
public sealed class EventMappingTests
{
    private static readonly EventActor Actor = new("alice", "user", "192.0.2.7", "podman/5.0") { RequestId = "trace-1" };
    private static readonly string[] KnownKinds = [.. typeof(AuditKinds).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (string)f.GetValue(null)!)];

    public static TheoryData<string> EventTypes() => [.. IntegrationEventTypes.ByName.Keys.Where(n => n != typeof(ManifestsPulled).FullName)];

    [Theory]
    [MemberData(nameof(EventTypes))]
    public void Each_event_kind_makes_one_entry_with_a_known_kind_and_its_actor(string typeName)
    {
        var e = Instantiate(IntegrationEventTypes.ByName[typeName]);
        var entry = Assert.Single(new EventMapper(_ => true).Map(e));

        Assert.Contains(entry.Kind, KnownKinds);
        Assert.Equal(e.EventId, entry.EntryId);
        Assert.Equal(("alice", "user", "192.0.2.7", "podman/5.0", "trace-1"), (entry.Performer, entry.PerformerKind, entry.Address, entry.UserAgent, entry.RequestId));
        Assert.Equal(e.OccurredAt.UtcDateTime, entry.OccurredAt);
        Assert.Equal(typeName, entry.SourceEvent);
        Assert.False(string.IsNullOrEmpty(entry.Namespace), $"{typeName} recorded no namespace");
        // The event's own fields are kept, the common ones are columns.
        var metadata = JsonDocument.Parse(entry.Metadata).RootElement;
        Assert.False(metadata.TryGetProperty("actor", out _));
        Assert.False(metadata.TryGetProperty("eventId", out _));
    }

    [Fact]
    public void Repository_events_carry_repository_and_namespace_and_robots_belong_to_their_namespace()
    {
        var mapper = new EventMapper(_ => true);
        var pushed = Assert.Single(mapper.Map(new ManifestPushed("acme/app", "sha256:" + new string('a', 64), "application/vnd.oci.image.manifest.v1+json", ["v1"], 10, [], null, null) { Actor = Actor }));
        Assert.Equal((AuditKinds.PushRepo, "acme", "acme/app"), (pushed.Kind, pushed.Namespace, pushed.Repository));
        Assert.Equal("v1", JsonDocument.Parse(pushed.Metadata).RootElement.GetProperty("tags")[0].GetString());
        // A one-part repository (only superusers make those) belongs to no account's namespace.
        var topLevel = Assert.Single(mapper.Map(new TagCreated("nginx", "latest", "sha256:" + new string('a', 64)) { Actor = Actor }));
        Assert.Equal(("", "nginx"), (topLevel.Namespace, topLevel.Repository));
        var robot = Assert.Single(mapper.Map(new Contracts.Accounts.RobotCreated("acme+ci") { Actor = Actor }));
        Assert.Equal(("acme", null), (robot.Namespace, robot.Repository));
        var failed = Assert.Single(mapper.Map(new Contracts.Accounts.LoginFailed("bob", "bad password") { Actor = Actor }));
        Assert.Equal((AuditKinds.LoginFailure, "bob"), (failed.Kind, failed.Namespace));
    }

    [Fact]
    public void A_batch_of_pulls_makes_one_entry_per_pull_except_where_pull_logging_is_off()
    {
        ManifestPulled Pull(string repository) => new(repository, "sha256:" + new string('b', 64), "application/vnd.oci.image.manifest.v1+json", "latest") { Actor = Actor };
        var pulls = new[] { Pull("acme/app"), Pull("quiet/app"), Pull("acme/other") };
        var entries = new EventMapper(ns => ns != "quiet").Map(new ManifestsPulled(pulls) { Actor = EventActor.System }).ToList();

        Assert.Equal([pulls[0].EventId, pulls[2].EventId], entries.Select(e => e.EntryId));
        Assert.All(entries, e => Assert.Equal((AuditKinds.PullRepo, "alice"), (e.Kind, e.Performer)));
        Assert.Equal("latest", JsonDocument.Parse(entries[0].Metadata).RootElement.GetProperty("tag").GetString());
    }

    /// <summary>An event with plausible values for its constructor: repositories "acme/app", accounts "acme", and so on.</summary>
    internal static IntegrationEvent Instantiate(Type type)
    {
        var constructor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).First();
        var arguments = constructor.GetParameters().Select(p => Value(p.ParameterType, p.Name!)).ToArray();
        var e = (IntegrationEvent)constructor.Invoke(arguments);
        return e with { Actor = Actor };
    }

    private static object? Value(Type type, string name) => type switch
    {
        _ when type == typeof(string) => name.Contains("repository", StringComparison.OrdinalIgnoreCase) ? "acme/app"
            : name.Contains("digest", StringComparison.OrdinalIgnoreCase) ? "sha256:" + new string('c', 64) : "acme",
        _ when type == typeof(bool) => true,
        _ when type == typeof(long) || type == typeof(int) => 1,
        _ when type == typeof(long?) => 2L,
        _ when type == typeof(DateTimeOffset?) => DateTimeOffset.UtcNow,
        _ when type.IsAssignableTo(typeof(IEnumerable<string>)) => new List<string> { "x" },
        _ when type.IsGenericType => Activator.CreateInstance(typeof(List<>).MakeGenericType(type.GetGenericArguments()[0])),
        _ => null,
    };
}
