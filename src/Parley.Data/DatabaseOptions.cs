using Parley.Core.Configuration;

namespace Parley.Data;

/// <summary>Which database Parley uses. Unset DATABASE_URL means embedded mode: SQLite in the data directory.</summary>
public sealed class DatabaseOptions : ISettingsValidation
{
    public const string SectionName = "Database";

    [Setting("DATABASE_URL", Description = "postgres://user:password@host:port/database[?sslmode=require] for PostgreSQL, or sqlite:PATH. Unset: SQLite at PARLEY_DATA_DIR/parley.db (embedded mode).", Secret = true)]
    public string? Url { get; set; }

    [Setting("PARLEY_MIGRATE_ON_START", Description = "Apply pending PostgreSQL migrations when `serve` starts instead of requiring `parley migrate`. Embedded SQLite always migrates on start.")]
    public bool MigrateOnStart { get; set; }

    [Setting("PARLEY_DATABASE_TIMEOUT_SECONDS", Description = "Timeout of a database command and of connecting.", Min = 1, Max = 600)]
    public int TimeoutSeconds { get; set; } = 30;

    public void Validate(SettingsValidationContext context)
    {
        if (Url is not null && !DatabaseUrl.TryParse(Url, "./data", TimeoutSeconds, out _, out var error))
        {
            context.Add("DATABASE_URL", Url, error, secret: true);
        }
    }
}
