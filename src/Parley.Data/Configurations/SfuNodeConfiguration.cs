using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Parley.Core.Meetings;
using Parley.Core.SfuNodes;

namespace Parley.Data.Configurations;

internal sealed class SfuNodeConfiguration : IEntityTypeConfiguration<SfuNode>
{
    public const int NodeIdLength = 128;

    public void Configure(EntityTypeBuilder<SfuNode> builder)
    {
        builder.ToTable("sfu_nodes");
        builder.HasKey(n => n.Id);
        builder.Property(n => n.Id).HasColumnName("id").HasMaxLength(NodeIdLength);
        builder.Property(n => n.InternalUrl).HasColumnName("internal_url").HasMaxLength(512).IsRequired();
        builder.Property(n => n.Participants).HasColumnName("participants");
        builder.Property(n => n.Rooms).HasColumnName("rooms");
        builder.Property(n => n.Draining).HasColumnName("draining");
        builder.Property(n => n.StartedAt).HasColumnName("started_at");
        builder.Property(n => n.HeartbeatAt).HasColumnName("heartbeat_at");
    }
}

internal sealed class MeetingPlacementConfiguration : IEntityTypeConfiguration<MeetingPlacement>
{
    public void Configure(EntityTypeBuilder<MeetingPlacement> builder)
    {
        builder.ToTable("meeting_placements");
        // The key is the meeting: at most one placement per meeting, which is what makes placement atomic.
        builder.HasKey(p => p.MeetingId);
        builder.Property(p => p.MeetingId).HasColumnName("meeting_id").HasMaxLength(MeetingIds.MaxLength);
        builder.Property(p => p.NodeId).HasColumnName("node_id").HasMaxLength(SfuNodeConfiguration.NodeIdLength).IsRequired();
        builder.Property(p => p.PlacedAt).HasColumnName("placed_at");
        // No foreign keys: a node's row goes when it stops while its placements stay until they are replaced
        // or expire, and placements outlive nothing of the meeting's (they are deleted when it ends).
        builder.HasIndex(p => p.NodeId).HasDatabaseName("ix_meeting_placements_node");
    }
}
