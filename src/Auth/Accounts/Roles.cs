using Berth.Access;

namespace Berth.Auth.Accounts;

/// <summary>The words roles are stored and spoken as, and their order.</summary>
public static class Roles
{
    public const string Read = "read";
    public const string Write = "write";
    public const string Admin = "admin";

    public const string TeamMember = "member";
    public const string TeamCreator = "creator";
    public const string TeamAdmin = "admin";

    public const string SubjectUser = "user";
    public const string SubjectTeam = "team";
    public const string SubjectRobot = "robot";

    public const string Private = "private";
    public const string Public = "public";

    public static bool TryParseRepositoryRole(string? text, out RepositoryRole role)
    {
        role = text switch { Read => RepositoryRole.Read, Write => RepositoryRole.Write, Admin => RepositoryRole.Admin, _ => RepositoryRole.None };
        return role != RepositoryRole.None;
    }

    public static RepositoryRole ParseStored(string text) => TryParseRepositoryRole(text, out var role) ? role : RepositoryRole.None;

    public static string ToText(RepositoryRole role) => role switch
    {
        RepositoryRole.Read => Read,
        RepositoryRole.Write => Write,
        RepositoryRole.Admin => Admin,
        _ => "none",
    };

    public static bool IsTeamRole(string? text) => text is TeamMember or TeamCreator or TeamAdmin;

    public static bool IsSubjectKind(string? text) => text is SubjectUser or SubjectTeam or SubjectRobot;

    public static bool IsVisibility(string? text) => text is Private or Public;
}
