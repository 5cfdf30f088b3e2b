using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Parley.Core.Meetings;
using Parley.Core.Teams;

namespace Parley.Data.Configurations;

internal sealed class MeetingConfiguration : IEntityTypeConfiguration<Meeting>
{
    public void Configure(EntityTypeBuilder<Meeting> builder)
    {
        builder.ToTable("meetings");
        builder.HasKey(m => m.Id);
        builder.Property(m => m.Id).HasColumnName("id").HasMaxLength(MeetingIds.MaxLength);
        builder.Property(m => m.TeamId).HasColumnName("team_id").HasMaxLength(64).IsRequired();
        builder.Property(m => m.Name).HasColumnName("name").HasMaxLength(255);
        builder.Property(m => m.MaxParticipants).HasColumnName("max_participants");
        builder.Property(m => m.TtlSeconds).HasColumnName("ttl_seconds");
        builder.Property(m => m.Lobby).HasColumnName("lobby");
        builder.Property(m => m.AllowGuests).HasColumnName("allow_guests");
        builder.Property(m => m.Adhoc).HasColumnName("adhoc");
        builder.Property(m => m.CreatedAt).HasColumnName("created_at");
        builder.Property(m => m.EndsAt).HasColumnName("ends_at");
        builder.Property(m => m.ClosedAt).HasColumnName("closed_at");
        builder.Property(m => m.CloseReason).HasColumnName("close_reason").HasMaxLength(16);
        // Lists are newest first per team; the id breaks ties between meetings created in the same instant.
        builder.HasIndex(m => new { m.TeamId, m.CreatedAt, m.Id }).HasDatabaseName("ix_meetings_team_created");
        // A team's meetings go with it (team-permanent-deletion-job deletes the team row last).
        builder.HasOne<Team>().WithMany().HasForeignKey(m => m.TeamId).OnDelete(DeleteBehavior.Cascade);
    }
}
