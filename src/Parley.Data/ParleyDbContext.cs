using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Parley.Core.Bots;
using Parley.Core.Meetings;
using Parley.Core.SfuNodes;
using Parley.Core.Teams;
using Parley.Core.Webhooks;
using Parley.Data.Outbox;
using Parley.Data.Queues;

namespace Parley.Data;

/// <summary>
/// The one model of Parley's data. Each provider has a derived context so that it can carry its own
/// migrations (Migrations/Sqlite, Migrations/Postgres): the two dialects differ in types and DDL.
/// </summary>
public class ParleyDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<Team> Teams => Set<Team>();

    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();

    public DbSet<Bot> Bots => Set<Bot>();

    public DbSet<BotStatusChange> BotStatusHistory => Set<BotStatusChange>();

    public DbSet<BotArtifact> BotArtifacts => Set<BotArtifact>();

    public DbSet<ScheduledBot> ScheduledBots => Set<ScheduledBot>();

    public DbSet<WebhookEndpoint> WebhookEndpoints => Set<WebhookEndpoint>();

    public DbSet<WebhookDelivery> WebhookDeliveries => Set<WebhookDelivery>();

    public DbSet<Meeting> Meetings => Set<Meeting>();

    public DbSet<SfuNode> SfuNodes => Set<SfuNode>();

    public DbSet<MeetingPlacement> MeetingPlacements => Set<MeetingPlacement>();

    public DbSet<OutboxMessage> Outbox => Set<OutboxMessage>();

    public DbSet<QueueMessage> QueueMessages => Set<QueueMessage>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(ParleyDbContext).Assembly);
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        ArgumentNullException.ThrowIfNull(configurationBuilder);
        // Every time is UTC. SQLite stores text and would hand back Unspecified kinds; PostgreSQL's timestamptz
        // refuses anything but Utc. One converter keeps both providers honest.
        configurationBuilder.Properties<DateTime>().HaveConversion<UtcDateTimeConverter>();
        configurationBuilder.Properties<DateTime?>().HaveConversion<NullableUtcDateTimeConverter>();
    }

    private sealed class UtcDateTimeConverter() : ValueConverter<DateTime, DateTime>(
        v => v.Kind == DateTimeKind.Utc ? v : v.ToUniversalTime(),
        v => DateTime.SpecifyKind(v, DateTimeKind.Utc));

    private sealed class NullableUtcDateTimeConverter() : ValueConverter<DateTime?, DateTime?>(
        v => v == null ? v : v.Value.Kind == DateTimeKind.Utc ? v : v.Value.ToUniversalTime(),
        v => v == null ? v : DateTime.SpecifyKind(v.Value, DateTimeKind.Utc));
}

/// <summary>SQLite flavour of the model (embedded mode).</summary>
public sealed class SqliteParleyDbContext(DbContextOptions<SqliteParleyDbContext> options) : ParleyDbContext(options);

/// <summary>PostgreSQL flavour of the model (scaled-out mode).</summary>
public sealed class PostgresParleyDbContext(DbContextOptions<PostgresParleyDbContext> options) : ParleyDbContext(options);
