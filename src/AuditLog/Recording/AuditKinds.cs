namespace Berth.AuditLog.Recording;

/// <summary>
/// The action kinds entries are recorded under: Quay's names where Quay has the
/// action, so queries and dashboards written for Quay's logs carry over.
/// </summary>
public static class AuditKinds
{
    public const string PushRepo = "push_repo";
    public const string PullRepo = "pull_repo";
    public const string CreateRepo = "create_repo";
    public const string DeleteRepo = "delete_repo";
    public const string RegisterRepo = "register_repo";
    public const string DeleteManifest = "delete_manifest";
    public const string CreateTag = "create_tag";
    public const string MoveTag = "move_tag";
    public const string DeleteTag = "delete_tag";
    public const string RevertTag = "revert_tag";
    public const string ChangeTagExpiration = "change_tag_expiration";
    public const string UploadBlob = "upload_blob";
    public const string DeleteBlob = "delete_blob";
    public const string UploadFailed = "upload_failed";
    public const string ChangeRepoVisibility = "change_repo_visibility";
    public const string ChangeRepoPermission = "change_repo_permission";
    public const string DeleteRepoPermission = "delete_repo_permission";
    public const string CreatePrototypePermission = "create_prototype_permission";
    public const string DeletePrototypePermission = "delete_prototype_permission";
    public const string CreateRobot = "create_robot";
    public const string RegenerateRobotToken = "regenerate_robot_token";
    public const string DeleteRobot = "delete_robot";
    public const string CreateAppToken = "create_app_specific_token";
    public const string RevokeAppToken = "revoke_app_specific_token";
    public const string UserCreate = "user_create";
    public const string UserDelete = "user_delete";
    public const string UserChangePassword = "user_change_password";
    public const string UserChangeSuperuser = "user_change_superuser";
    public const string OrgCreate = "org_create";
    public const string OrgDelete = "org_delete";
    public const string OrgCreateTeam = "org_create_team";
    public const string OrgChangeTeam = "org_set_team_role";
    public const string OrgDeleteTeam = "org_delete_team";
    public const string OrgAddTeamMember = "org_add_team_member";
    public const string OrgRemoveTeamMember = "org_remove_team_member";
    public const string LoginSuccess = "login_success";
    public const string LoginFailure = "login_failure";
    public const string RotateLogs = "rotate_logs";
    public const string ExpireTag = "expire_tag";
    /// <summary>Quay's name for a tag its auto-prune (retention) policy removed.</summary>
    public const string AutopruneTagDelete = "autoprune_tag_delete";
    public const string GarbageCollection = "garbage_collection";
    public const string QuotaWarning = "quota_warning";
}
