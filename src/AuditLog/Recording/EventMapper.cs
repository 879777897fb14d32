using System.Text.Json;
using System.Text.Json.Nodes;
using Berth.AuditLog.Data;
using Berth.Contracts;
using Berth.Contracts.Accounts;
using Berth.Contracts.Registry;

namespace Berth.AuditLog.Recording;

/// <summary>
/// Turns an integration event into the entries it stands for: one per event, one
/// per pull for a batch of pulls (less those of namespaces whose pull logging is off).
/// An event type this build does not know yet is recorded too, under its own name,
/// so nothing that happened is missing from the log.
/// </summary>
public sealed class EventMapper(Func<string, bool> pullLoggingOn)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly string[] BaseFields = ["eventId", "occurredAt", "actor"];

    public IEnumerable<AuditEntry> Map(IntegrationEvent e)
    {
        if (e is ManifestsPulled)
        {
            foreach (var pull in Pulls(e)!) yield return Entry(pull, AuditKinds.PullRepo, pull.Repository);
            yield break;
        }
        var (kind, @namespace, repository) = Describe(e);
        yield return Entry(e, kind, repository, @namespace);
    }

    /// <summary>
    /// The pulls an event stands for, which the log keeps in its compact pull table
    /// (<see cref="PullEntry"/>) rather than as entries: a batch's, less those of namespaces
    /// whose pull logging is off, or a single pull's. Null for any other event.
    /// </summary>
    public IReadOnlyList<ManifestPulled>? Pulls(IntegrationEvent e) => e switch
    {
        ManifestsPulled batch => [.. batch.Pulls.Where(pull => pullLoggingOn(NamespaceOf(pull.Repository)))],
        ManifestPulled pull => [pull],
        _ => null,
    };

    /// <summary>The type name a pull's entry gives as its source event.</summary>
    public static readonly string PullSourceEvent = typeof(ManifestPulled).FullName!;

    private static (string Kind, string? Namespace, string? Repository) Describe(IntegrationEvent e) => e switch
    {
        ManifestPushed x => (AuditKinds.PushRepo, null, x.Repository),
        ManifestPulled x => (AuditKinds.PullRepo, null, x.Repository),
        RepositoryCreated x => (AuditKinds.CreateRepo, null, x.Repository),
        RepositoryRegistered x => (AuditKinds.RegisterRepo, null, x.Repository),
        RepositoryVisibilityChanged x => (AuditKinds.ChangeRepoVisibility, null, x.Repository),
        ManifestDeleted x => (AuditKinds.DeleteManifest, null, x.Repository),
        TagCreated x => (AuditKinds.CreateTag, null, x.Repository),
        TagMoved x => (AuditKinds.MoveTag, null, x.Repository),
        TagDeleted x => (AuditKinds.DeleteTag, null, x.Repository),
        TagExpired x => (AuditKinds.ExpireTag, null, x.Repository),
        TagExpirationChanged x => (AuditKinds.ChangeTagExpiration, null, x.Repository),
        TagRestored x => (AuditKinds.RevertTag, null, x.Repository),
        TagPruned x => (AuditKinds.AutopruneTagDelete, null, x.Repository),
        QuotaWarningReached x => (AuditKinds.QuotaWarning, x.Namespace, null),
        GarbageCollected x => (AuditKinds.GarbageCollection, x.Repository is null ? x.Namespace ?? "" : null, x.Repository),
        BlobUploaded x => (AuditKinds.UploadBlob, null, x.Repository),
        BlobDeleted x => (AuditKinds.DeleteBlob, null, x.Repository),
        UploadFailed x => (AuditKinds.UploadFailed, null, x.Repository),
        RepositoryPermissionSet x => (AuditKinds.ChangeRepoPermission, null, x.Repository),
        RepositoryPermissionRemoved x => (AuditKinds.DeleteRepoPermission, null, x.Repository),
        DefaultPermissionSet x => (AuditKinds.CreatePrototypePermission, x.Organization, null),
        DefaultPermissionRemoved x => (AuditKinds.DeletePrototypePermission, x.Organization, null),
        RobotCreated x => (AuditKinds.CreateRobot, RobotNamespace(x.Robot), null),
        RobotTokenRegenerated x => (AuditKinds.RegenerateRobotToken, RobotNamespace(x.Robot), null),
        RobotDeleted x => (AuditKinds.DeleteRobot, RobotNamespace(x.Robot), null),
        AppTokenCreated x => (AuditKinds.CreateAppToken, x.User, null),
        AppTokenRevoked x => (AuditKinds.RevokeAppToken, x.User, null),
        UserCreated x => (AuditKinds.UserCreate, x.User, null),
        UserDeleted x => (AuditKinds.UserDelete, x.User, null),
        UserPasswordChanged x => (AuditKinds.UserChangePassword, x.User, null),
        UserSuperuserChanged x => (AuditKinds.UserChangeSuperuser, x.User, null),
        OrganizationCreated x => (AuditKinds.OrgCreate, x.Organization, null),
        OrganizationDeleted x => (AuditKinds.OrgDelete, x.Organization, null),
        TeamCreated x => (AuditKinds.OrgCreateTeam, x.Organization, null),
        TeamChanged x => (AuditKinds.OrgChangeTeam, x.Organization, null),
        TeamDeleted x => (AuditKinds.OrgDeleteTeam, x.Organization, null),
        TeamMemberAdded x => (AuditKinds.OrgAddTeamMember, x.Organization, null),
        TeamMemberRemoved x => (AuditKinds.OrgRemoveTeamMember, x.Organization, null),
        LoginSucceeded x => (AuditKinds.LoginSuccess, RobotNamespace(x.Account), null),
        LoginFailed x => (AuditKinds.LoginFailure, RobotNamespace(x.Account), null),
        // A kind this build does not know: recorded under its type name rather than dropped.
        _ => (ToSnakeCase(e.GetType().Name), null, null),
    };

    private static AuditEntry Entry(IntegrationEvent e, string kind, string? repository, string? @namespace = null)
    {
        var actor = ActorColumns.Of(e.Actor);
        return new AuditEntry
        {
            EntryId = e.EventId,
            Kind = kind,
            Namespace = @namespace ?? (repository is null ? "" : NamespaceOf(repository)),
            Repository = repository,
            Performer = actor.Performer,
            PerformerKind = actor.PerformerKind,
            Address = actor.Address,
            UserAgent = actor.UserAgent,
            RequestId = actor.RequestId,
            OccurredAt = e.OccurredAt.UtcDateTime,
            Metadata = MetadataOf(e),
            SourceEvent = e.GetType().FullName!,
        };
    }

    /// <summary>The event's own fields, without those every entry has in columns.</summary>
    private static string MetadataOf(IntegrationEvent e)
    {
        // Pulls are most of a busy log: their few fields are written directly.
        if (e is ManifestPulled pull) return PullMetadata(pull.Repository, pull.Digest, pull.MediaType, pull.Tag);
        var node = JsonSerializer.SerializeToNode(e, e.GetType(), Json) as JsonObject ?? [];
        foreach (var field in BaseFields) node.Remove(field);
        return node.ToJsonString();
    }

    /// <summary>One writer and buffer a thread, reset for each pull: thousands of pulls a batch would otherwise allocate two of each a pull.</summary>
    [ThreadStatic] private static (System.Buffers.ArrayBufferWriter<byte> Buffer, Utf8JsonWriter Writer)? t_pullWriter;

    /// <summary>A pull entry's metadata, whether made from the event or read back from the pull table.</summary>
    internal static string PullMetadata(string repository, string digest, string mediaType, string? tag)
    {
        var (buffer, writer) = t_pullWriter ??= NewPullWriter();
        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        writer.WriteStartObject();
        writer.WriteString("repository", repository);
        writer.WriteString("digest", digest);
        writer.WriteString("mediaType", mediaType);
        if (tag is null) writer.WriteNull("tag");
        else writer.WriteString("tag", tag);
        writer.WriteEndObject();
        writer.Flush();
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static (System.Buffers.ArrayBufferWriter<byte>, Utf8JsonWriter) NewPullWriter()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(512);
        return (buffer, new Utf8JsonWriter(buffer));
    }

    /// <summary>A repository's namespace; none for a one-part name (only superusers may create those, and no account administers them).</summary>
    public static string NamespaceOf(string repository)
    {
        var slash = repository.IndexOf('/');
        return slash < 0 ? "" : repository[..slash];
    }

    /// <summary>A robot "namespace+name" belongs to its namespace; any other account name is its own namespace.</summary>
    private static string RobotNamespace(string account)
    {
        var plus = account.IndexOf('+');
        return plus < 0 ? account : account[..plus];
    }

    private static string ToSnakeCase(string name) => string.Concat(name.Select((c, i) => char.IsUpper(c) ? (i > 0 ? "_" : "") + char.ToLowerInvariant(c) : c.ToString()));

}
