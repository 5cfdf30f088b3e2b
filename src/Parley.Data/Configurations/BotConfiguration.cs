using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Parley.Core.Bots;

namespace Parley.Data.Configurations;

internal sealed class BotConfiguration : IEntityTypeConfiguration<Bot>
{
    public void Configure(EntityTypeBuilder<Bot> builder)
    {
        builder.ToTable("bots");
        builder.HasKey(b => b.Id);
        builder.Property(b => b.Id).HasColumnName("id").HasMaxLength(36);
        builder.Property(b => b.TeamId).HasColumnName("team_id").HasMaxLength(64).IsRequired();
        builder.Property(b => b.BotName).HasColumnName("bot_name").HasMaxLength(255).IsRequired();
        builder.Property(b => b.MeetingUrl).HasColumnName("meeting_url").HasMaxLength(2048).IsRequired();
        builder.Property(b => b.NormalizedMeetingUrl).HasColumnName("normalized_meeting_url").HasMaxLength(2048).IsRequired();
        builder.Property(b => b.MeetingPlatform).HasColumnName("meeting_platform").HasMaxLength(16).IsRequired();
        builder.Property(b => b.RecordingMode).HasColumnName("recording_mode").HasMaxLength(32).IsRequired();
        builder.Property(b => b.Status).HasColumnName("status").HasMaxLength(32).IsRequired();
        builder.Property(b => b.CreatedAt).HasColumnName("created_at");
        builder.Property(b => b.UpdatedAt).HasColumnName("updated_at");
        builder.Property(b => b.JoinedAt).HasColumnName("joined_at");
        builder.Property(b => b.ExitedAt).HasColumnName("exited_at");
        builder.Property(b => b.ErrorCode).HasColumnName("error_code").HasMaxLength(64);
        builder.Property(b => b.ErrorMessage).HasColumnName("error_message").HasMaxLength(2000);
        builder.Property(b => b.DeduplicationKey).HasColumnName("deduplication_key").HasMaxLength(200);
        builder.Property(b => b.CreateBody).HasColumnName("create_body").IsRequired();
        builder.Property(b => b.Extra).HasColumnName("extra");
        builder.Property(b => b.EventId).HasColumnName("event_id").HasMaxLength(64);
        builder.Property(b => b.DeploymentPlatform).HasColumnName("deployment_platform").HasMaxLength(16);
        builder.Property(b => b.DeploymentIdentifier).HasColumnName("deployment_identifier").HasMaxLength(255);
        builder.Property(b => b.LastHeartbeatAt).HasColumnName("last_heartbeat_at");
        builder.Property(b => b.BotTokenHash).HasColumnName("bot_token_hash").HasMaxLength(64);
        builder.Property(b => b.LeaveRequested).HasColumnName("leave_requested");
        builder.Property(b => b.RecordingPaused).HasColumnName("recording_paused");
        builder.Property(b => b.PendingChatMessages).HasColumnName("pending_chat_messages");
        builder.Property(b => b.ArtifactsDeleted).HasColumnName("artifacts_deleted");
        builder.Property(b => b.Participants).HasColumnName("participants");
        builder.Property(b => b.Speakers).HasColumnName("speakers");
        builder.Property(b => b.Version).HasColumnName("version").IsConcurrencyToken();
        builder.Ignore(b => b.IsEnded);
        builder.Ignore(b => b.DurationSeconds);

        builder.HasMany(b => b.StatusHistory).WithOne().HasForeignKey(h => h.BotId).OnDelete(DeleteBehavior.Cascade);
        builder.HasMany(b => b.Artifacts).WithOne().HasForeignKey(a => a.BotId).OnDelete(DeleteBehavior.Cascade);

        // List endpoint: newest first per team (ids are UUIDv7, so id order is creation order), with filters.
        builder.HasIndex(b => new { b.TeamId, b.Id }).HasDatabaseName("ix_bots_team_id_id");
        builder.HasIndex(b => new { b.TeamId, b.Status, b.Id }).HasDatabaseName("ix_bots_team_status");
        builder.HasIndex(b => new { b.TeamId, b.MeetingPlatform, b.Id }).HasDatabaseName("ix_bots_team_platform");
        builder.HasIndex(b => new { b.TeamId, b.CreatedAt }).HasDatabaseName("ix_bots_team_created_at");
        builder.HasIndex(b => new { b.TeamId, b.BotName }).HasDatabaseName("ix_bots_team_bot_name");
        // Duplicate detection (allow_multiple_bots=false, deduplication_key) and meeting_url filter.
        builder.HasIndex(b => new { b.TeamId, b.NormalizedMeetingUrl, b.CreatedAt }).HasDatabaseName("ix_bots_team_meeting");
        builder.HasIndex(b => new { b.TeamId, b.DeduplicationKey }).HasDatabaseName("ix_bots_team_dedup_key");
        // Jobs: pickup_delayed marking, heartbeat monitor, retention.
        builder.HasIndex(b => new { b.Status, b.CreatedAt }).HasDatabaseName("ix_bots_status_created_at");
        builder.HasIndex(b => new { b.ExitedAt, b.ArtifactsDeleted }).HasDatabaseName("ix_bots_exited_at");
    }
}

internal sealed class BotStatusChangeConfiguration : IEntityTypeConfiguration<BotStatusChange>
{
    public void Configure(EntityTypeBuilder<BotStatusChange> builder)
    {
        builder.ToTable("bot_status_history");
        builder.HasKey(h => h.Id);
        builder.Property(h => h.Id).HasColumnName("id").ValueGeneratedOnAdd();
        builder.Property(h => h.BotId).HasColumnName("bot_id").HasMaxLength(36).IsRequired();
        builder.Property(h => h.Code).HasColumnName("code").HasMaxLength(32).IsRequired();
        builder.Property(h => h.CreatedAt).HasColumnName("created_at");
        builder.Property(h => h.ErrorMessage).HasColumnName("error_message").HasMaxLength(2000);
        builder.HasIndex(h => new { h.BotId, h.Id }).HasDatabaseName("ix_bot_status_history_bot");
    }
}

internal sealed class BotArtifactConfiguration : IEntityTypeConfiguration<BotArtifact>
{
    public void Configure(EntityTypeBuilder<BotArtifact> builder)
    {
        builder.ToTable("bot_artifacts");
        builder.HasKey(a => a.Id);
        builder.Property(a => a.Id).HasColumnName("id").ValueGeneratedOnAdd();
        builder.Property(a => a.BotId).HasColumnName("bot_id").HasMaxLength(36).IsRequired();
        builder.Property(a => a.Kind).HasColumnName("kind").HasMaxLength(32).IsRequired();
        builder.Property(a => a.StorageKey).HasColumnName("storage_key").HasMaxLength(1024).IsRequired();
        builder.Property(a => a.ContentType).HasColumnName("content_type").HasMaxLength(128).IsRequired();
        builder.Property(a => a.SizeBytes).HasColumnName("size_bytes");
        builder.Property(a => a.CreatedAt).HasColumnName("created_at");
        builder.HasIndex(a => new { a.BotId, a.Kind }).HasDatabaseName("ix_bot_artifacts_bot_kind");
    }
}

internal sealed class ScheduledBotConfiguration : IEntityTypeConfiguration<ScheduledBot>
{
    public void Configure(EntityTypeBuilder<ScheduledBot> builder)
    {
        builder.ToTable("scheduled_bots");
        builder.HasKey(b => b.Id);
        builder.Property(b => b.Id).HasColumnName("id").HasMaxLength(36);
        builder.Property(b => b.TeamId).HasColumnName("team_id").HasMaxLength(64).IsRequired();
        builder.Property(b => b.BotName).HasColumnName("bot_name").HasMaxLength(255).IsRequired();
        builder.Property(b => b.MeetingUrl).HasColumnName("meeting_url").HasMaxLength(2048).IsRequired();
        builder.Property(b => b.MeetingPlatform).HasColumnName("meeting_platform").HasMaxLength(16).IsRequired();
        builder.Property(b => b.JoinAt).HasColumnName("join_at");
        builder.Property(b => b.Status).HasColumnName("status").HasMaxLength(16).IsRequired();
        builder.Property(b => b.CreateBody).HasColumnName("create_body").IsRequired();
        builder.Property(b => b.Extra).HasColumnName("extra");
        builder.Property(b => b.CreatedAt).HasColumnName("created_at");
        builder.Property(b => b.UpdatedAt).HasColumnName("updated_at");
        builder.Property(b => b.DispatchedAt).HasColumnName("dispatched_at");
        builder.Property(b => b.ErrorMessage).HasColumnName("error_message").HasMaxLength(2000);
        builder.HasIndex(b => new { b.TeamId, b.Id }).HasDatabaseName("ix_scheduled_bots_team_id");
        builder.HasIndex(b => new { b.TeamId, b.Status, b.Id }).HasDatabaseName("ix_scheduled_bots_team_status");
        // scheduled-bot-job: the next due scheduled bots.
        builder.HasIndex(b => new { b.Status, b.JoinAt }).HasDatabaseName("ix_scheduled_bots_due");
    }
}
