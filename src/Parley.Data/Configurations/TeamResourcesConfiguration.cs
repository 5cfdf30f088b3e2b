using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Parley.Core.Teams;
using Parley.Core.Webhooks;
using Parley.Data.Outbox;
using Parley.Data.Queues;

namespace Parley.Data.Configurations;

internal sealed class ApiKeyConfiguration : IEntityTypeConfiguration<ApiKey>
{
    public void Configure(EntityTypeBuilder<ApiKey> builder)
    {
        builder.ToTable("api_keys");
        builder.HasKey(k => k.Id);
        builder.Property(k => k.Id).HasColumnName("id").HasMaxLength(36);
        builder.Property(k => k.TeamId).HasColumnName("team_id").HasMaxLength(64).IsRequired();
        builder.Property(k => k.Name).HasColumnName("name").HasMaxLength(255).IsRequired();
        builder.Property(k => k.Prefix).HasColumnName("prefix").HasMaxLength(16).IsRequired();
        builder.Property(k => k.Hash).HasColumnName("hash").HasMaxLength(64).IsRequired();
        builder.Property(k => k.CreatedAt).HasColumnName("created_at");
        builder.Property(k => k.LastUsedAt).HasColumnName("last_used_at");
        builder.Property(k => k.RevokedAt).HasColumnName("revoked_at");
        builder.HasIndex(k => k.Hash).IsUnique().HasDatabaseName("ux_api_keys_hash");
        builder.HasIndex(k => k.TeamId).HasDatabaseName("ix_api_keys_team");
        builder.HasOne<Team>().WithMany().HasForeignKey(k => k.TeamId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class WebhookEndpointConfiguration : IEntityTypeConfiguration<WebhookEndpoint>
{
    public void Configure(EntityTypeBuilder<WebhookEndpoint> builder)
    {
        builder.ToTable("webhook_endpoints");
        builder.HasKey(e => e.Id);
        builder.Property(e => e.Id).HasColumnName("id").HasMaxLength(36);
        builder.Property(e => e.TeamId).HasColumnName("team_id").HasMaxLength(64).IsRequired();
        builder.Property(e => e.Url).HasColumnName("url").HasMaxLength(2048).IsRequired();
        builder.Property(e => e.Secret).HasColumnName("secret").HasMaxLength(255).IsRequired();
        builder.Property(e => e.Events).HasColumnName("events").HasMaxLength(255);
        builder.Property(e => e.CreatedAt).HasColumnName("created_at");
        builder.HasIndex(e => new { e.TeamId, e.Id }).HasDatabaseName("ix_webhook_endpoints_team");
    }
}

internal sealed class WebhookDeliveryConfiguration : IEntityTypeConfiguration<WebhookDelivery>
{
    public void Configure(EntityTypeBuilder<WebhookDelivery> builder)
    {
        builder.ToTable("webhook_deliveries");
        builder.HasKey(d => d.Id);
        builder.Property(d => d.Id).HasColumnName("id").HasMaxLength(40);
        builder.Property(d => d.TeamId).HasColumnName("team_id").HasMaxLength(64).IsRequired();
        builder.Property(d => d.BotId).HasColumnName("bot_id").HasMaxLength(36).IsRequired();
        builder.Property(d => d.Event).HasColumnName("event").HasMaxLength(32).IsRequired();
        builder.Property(d => d.TargetKind).HasColumnName("target_kind").HasMaxLength(16).IsRequired();
        builder.Property(d => d.TargetUrl).HasColumnName("target_url").HasMaxLength(2048).IsRequired();
        builder.Property(d => d.EndpointId).HasColumnName("endpoint_id").HasMaxLength(36);
        builder.Property(d => d.Secret).HasColumnName("secret").HasMaxLength(255);
        builder.Property(d => d.Method).HasColumnName("method").HasMaxLength(8).IsRequired();
        builder.Property(d => d.Payload).HasColumnName("payload").IsRequired();
        builder.Property(d => d.Attempt).HasColumnName("attempt");
        builder.Property(d => d.Status).HasColumnName("status").HasMaxLength(16).IsRequired();
        builder.Property(d => d.LastStatusCode).HasColumnName("last_status_code");
        builder.Property(d => d.LastError).HasColumnName("last_error").HasMaxLength(2000);
        builder.Property(d => d.NextAttemptAt).HasColumnName("next_attempt_at");
        builder.Property(d => d.CreatedAt).HasColumnName("created_at");
        builder.Property(d => d.UpdatedAt).HasColumnName("updated_at");
        builder.Property(d => d.DeliveredAt).HasColumnName("delivered_at");
        // The retry loop: due pending deliveries in time order.
        builder.HasIndex(d => new { d.Status, d.NextAttemptAt }).HasDatabaseName("ix_webhook_deliveries_due");
        builder.HasIndex(d => new { d.BotId, d.CreatedAt }).HasDatabaseName("ix_webhook_deliveries_bot");
    }
}

internal sealed class OutboxMessageConfiguration : IEntityTypeConfiguration<OutboxMessage>
{
    public void Configure(EntityTypeBuilder<OutboxMessage> builder)
    {
        builder.ToTable("outbox");
        builder.HasKey(m => m.Id);
        builder.Property(m => m.Id).HasColumnName("id").ValueGeneratedOnAdd();
        builder.Property(m => m.Kind).HasColumnName("kind").HasMaxLength(32).IsRequired();
        builder.Property(m => m.Payload).HasColumnName("payload").IsRequired();
        builder.Property(m => m.CreatedAt).HasColumnName("created_at");
        builder.Property(m => m.PublishedAt).HasColumnName("published_at");
        builder.Property(m => m.Attempts).HasColumnName("attempts");
        builder.Property(m => m.LastError).HasColumnName("last_error").HasMaxLength(2000);
        builder.Property(m => m.AvailableAt).HasColumnName("available_at");
        builder.HasIndex(m => new { m.PublishedAt, m.AvailableAt, m.Id }).HasDatabaseName("ix_outbox_pending");
    }
}

internal sealed class QueueMessageConfiguration : IEntityTypeConfiguration<QueueMessage>
{
    public void Configure(EntityTypeBuilder<QueueMessage> builder)
    {
        builder.ToTable("queue_messages");
        builder.HasKey(m => m.Id);
        builder.Property(m => m.Id).HasColumnName("id").ValueGeneratedOnAdd();
        builder.Property(m => m.Queue).HasColumnName("queue").HasMaxLength(64).IsRequired();
        builder.Property(m => m.Body).HasColumnName("body").IsRequired();
        builder.Property(m => m.EnqueuedAt).HasColumnName("enqueued_at");
        builder.Property(m => m.VisibleAt).HasColumnName("visible_at");
        builder.Property(m => m.ReceiveCount).HasColumnName("receive_count");
        builder.Property(m => m.ReceiptHandle).HasColumnName("receipt_handle").HasMaxLength(64);
        builder.Property(m => m.DeadLetteredAt).HasColumnName("dead_lettered_at");
        builder.HasIndex(m => new { m.Queue, m.DeadLetteredAt, m.VisibleAt, m.Id }).HasDatabaseName("ix_queue_messages_visible");
    }
}
