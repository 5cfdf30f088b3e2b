namespace Parley.Core.Teams;

/// <summary>
/// A tenant. In single-tenant mode exactly one exists (STATIC_TEAM_ID); with ENABLE_MULTI_TENANT teams are
/// created by administrators. Deletion is soft first (DeletedAt), permanent later by team-permanent-deletion-job.
/// </summary>
public sealed class Team
{
    public required string Id { get; init; }

    public required string Name { get; set; }

    public DateTime CreatedAt { get; init; }

    public DateTime? DeletedAt { get; set; }
}
