namespace Parley.Api.Operations;

/// <summary>
/// What /ready needs besides a live database probe: whether the configured roles have started, and whether
/// the schema was seen fully migrated (once migrated it stays so for the life of the process).
/// </summary>
public sealed class ReadinessState
{
    private volatile bool _rolesStarted;
    private volatile bool _databaseMigrated;

    public bool RolesStarted => _rolesStarted;

    public bool DatabaseMigrated => _databaseMigrated;

    public void MarkRolesStarted() => _rolesStarted = true;

    public void MarkDatabaseMigrated() => _databaseMigrated = true;
}
