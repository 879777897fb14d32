namespace Berth.Contracts.Accounts;

// Changes to who may do what. The Auth module publishes them; the audit log records them.

public sealed record UserCreated(string User, string Source, bool Superuser) : IntegrationEvent;

public sealed record UserDeleted(string User) : IntegrationEvent;

public sealed record UserPasswordChanged(string User) : IntegrationEvent;

public sealed record UserSuperuserChanged(string User, bool Superuser) : IntegrationEvent;

public sealed record OrganizationCreated(string Organization) : IntegrationEvent;

public sealed record OrganizationDeleted(string Organization) : IntegrationEvent;

public sealed record TeamCreated(string Organization, string Team, string Role, string? LdapGroup) : IntegrationEvent;

public sealed record TeamChanged(string Organization, string Team, string Role, string? LdapGroup) : IntegrationEvent;

public sealed record TeamDeleted(string Organization, string Team) : IntegrationEvent;

public sealed record TeamMemberAdded(string Organization, string Team, string User) : IntegrationEvent;

public sealed record TeamMemberRemoved(string Organization, string Team, string User) : IntegrationEvent;

public sealed record RobotCreated(string Robot) : IntegrationEvent;

public sealed record RobotTokenRegenerated(string Robot) : IntegrationEvent;

public sealed record RobotDeleted(string Robot) : IntegrationEvent;

public sealed record AppTokenCreated(string User, string TokenId, string Title, DateTimeOffset? ExpiresAt) : IntegrationEvent;

public sealed record AppTokenRevoked(string User, string TokenId) : IntegrationEvent;

/// <summary>A repository permission granted or changed; <c>SubjectKind</c> is user, team or robot.</summary>
public sealed record RepositoryPermissionSet(string Repository, string SubjectKind, string Subject, string Role) : IntegrationEvent;

public sealed record RepositoryPermissionRemoved(string Repository, string SubjectKind, string Subject) : IntegrationEvent;

public sealed record DefaultPermissionSet(string Organization, string SubjectKind, string Subject, string Role) : IntegrationEvent;

public sealed record DefaultPermissionRemoved(string Organization, string SubjectKind, string Subject) : IntegrationEvent;

/// <summary>Auth learned of a repository (first push), with its creator as admin.</summary>
public sealed record RepositoryRegistered(string Repository, string Visibility, string Creator) : IntegrationEvent;

public sealed record RepositoryVisibilityChanged(string Repository, string Visibility) : IntegrationEvent;

/// <summary>
/// A login at the registry's token endpoint that succeeded; <c>Method</c> is password,
/// app_token or robot_token. Never carries the secret.
/// </summary>
public sealed record LoginSucceeded(string Account, string Method) : IntegrationEvent;

/// <summary>A login refused: wrong credentials, throttled or disabled account. Never carries the secret.</summary>
public sealed record LoginFailed(string Account, string Reason) : IntegrationEvent;
