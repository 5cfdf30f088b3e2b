using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Parley.Api.Meetings;
using Parley.Core.Meetings;
using Parley.Core.Teams;
using Parley.Data;
using Parley.Testing;

namespace Parley.Api.Tests.Meetings;

/// <summary>The SFU's view of meetings, over a migrated database (SQLite and PostgreSQL), no server needed.</summary>
public abstract class DatabaseMeetingAuthorityTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 11, 22, 10, 0, 0, TimeSpan.Zero);

    private readonly ManualTimeProvider _time = new(Start);
    private readonly MeetingOptions _options = new() { MaxParticipants = 40, EmptyMeetingTimeoutSeconds = 120 };
    private ParleyDbContextFactory _databases = null!;
    private MeetingTokenService _tokens = null!;
    private DatabaseMeetingAuthority _authority = null!;

    protected abstract Task<DatabaseTarget> TargetAsync();

    public async Task InitializeAsync()
    {
        _databases = new ParleyDbContextFactory(await TargetAsync());
        await new DatabaseMigrator(_databases).MigrateAsync(CancellationToken.None);
        await using var db = _databases.CreateDbContext();
        db.Teams.Add(new Team { Id = "team-a", Name = "A", CreatedAt = Start.UtcDateTime });
        await db.SaveChangesAsync();
        _tokens = new MeetingTokenService(Jwt.Key(), _time);
        _authority = new DatabaseMeetingAuthority(_tokens, _databases, _options, _time, NullLogger<DatabaseMeetingAuthority>.Instance);
    }

    public virtual Task DisposeAsync() => Task.CompletedTask;

    private async Task<Meeting> AddAsync(string id, int? maxParticipants = null, bool adhoc = false, bool lobby = false, TimeSpan? ttl = null, DateTime? closedAt = null)
    {
        var lifetime = ttl ?? TimeSpan.FromHours(4);
        var meeting = new Meeting
        {
            Id = id, TeamId = "team-a", Name = "Standup", MaxParticipants = maxParticipants, TtlSeconds = (int)lifetime.TotalSeconds,
            Lobby = lobby, AllowGuests = true, Adhoc = adhoc, CreatedAt = Start.UtcDateTime, EndsAt = Start.UtcDateTime + lifetime,
            ClosedAt = closedAt, CloseReason = closedAt is null ? null : "deleted",
        };
        await using var db = _databases.CreateDbContext();
        db.Meetings.Add(meeting);
        await db.SaveChangesAsync();
        return meeting;
    }

    private string Token(string meetingId, bool host = false, TimeSpan? valid = null) =>
        _tokens.Issue(new MeetingTokenClaims(meetingId, "alice", "Alice", IsHost: host), Start + (valid ?? TimeSpan.FromHours(1))).Token;

    private async Task<Meeting?> LoadAsync(string id)
    {
        await using var db = _databases.CreateDbContext();
        return await db.Meetings.AsNoTracking().FirstOrDefaultAsync(m => m.Id == id);
    }

    [Fact]
    public async Task A_valid_token_for_an_open_meeting_is_allowed_with_the_meetings_policy()
    {
        await AddAsync("abc-defg-hij", lobby: true);
        var result = await _authority.AuthorizeAsync(Token("abc-defg-hij", host: true), CancellationToken.None);

        Assert.True(result.IsAllowed, result.ErrorMessage);
        Assert.Equal("alice", result.Grant!.Identity);
        Assert.True(result.Grant.IsHost);
        var policy = result.Policy!;
        Assert.Equal("abc-defg-hij", policy.MeetingId);
        Assert.Equal("Standup", policy.Name);
        Assert.Equal(40, policy.MaxParticipants);
        Assert.True(policy.Lobby);
        Assert.Equal(Start.AddHours(4), policy.EndsAt);
        Assert.Equal(TimeSpan.FromSeconds(120), policy.EmptyTimeout);
    }

    [Fact]
    public async Task The_meetings_own_limit_wins_over_MAX_PARTICIPANTS()
    {
        await AddAsync("small", maxParticipants: 3);
        var result = await _authority.AuthorizeAsync(Token("small"), CancellationToken.None);
        Assert.Equal(3, result.Policy!.MaxParticipants);
    }

    [Fact]
    public async Task Refusals_carry_the_signaling_codes()
    {
        await AddAsync("closed-one", closedAt: Start.UtcDateTime);
        await AddAsync("short-one", ttl: TimeSpan.FromMinutes(10));

        Assert.Equal("MEETING_NOT_FOUND", (await _authority.AuthorizeAsync(Token("nobody-made-this"), CancellationToken.None)).ErrorCode);
        Assert.Equal("MEETING_CLOSED", (await _authority.AuthorizeAsync(Token("closed-one"), CancellationToken.None)).ErrorCode);
        Assert.Equal("INVALID_TOKEN", (await _authority.AuthorizeAsync("garbage", CancellationToken.None)).ErrorCode);

        var other = new MeetingTokenService(Jwt.Key("a-different-secret-a-different-secret-0000"), _time);
        var forged = other.Issue(new MeetingTokenClaims("short-one", "eve", "Eve", IsHost: true), Start.AddHours(1)).Token;
        var refused = await _authority.AuthorizeAsync(forged, CancellationToken.None);
        Assert.False(refused.IsAllowed);
        Assert.Equal("INVALID_TOKEN", refused.ErrorCode);
        Assert.Null(refused.Grant);

        // Past ends_at the meeting is closed even though no room reported it; an expired token is expired.
        var token = Token("short-one", valid: TimeSpan.FromHours(1));
        _time.Advance(TimeSpan.FromMinutes(11));
        Assert.Equal("MEETING_CLOSED", (await _authority.AuthorizeAsync(token, CancellationToken.None)).ErrorCode);
        _time.Advance(TimeSpan.FromHours(1));
        Assert.Equal("TOKEN_EXPIRED", (await _authority.AuthorizeAsync(token, CancellationToken.None)).ErrorCode);
    }

    [Fact]
    public async Task A_closed_room_closes_its_meeting_once()
    {
        await AddAsync("created");
        _time.Advance(TimeSpan.FromMinutes(30));
        await _authority.MeetingClosedAsync("created", "empty", CancellationToken.None);

        var closed = await LoadAsync("created");
        Assert.Equal(Start.AddMinutes(30).UtcDateTime, closed!.ClosedAt);
        Assert.Equal("empty", closed.CloseReason);
        Assert.Equal("MEETING_CLOSED", (await _authority.AuthorizeAsync(Token("created"), CancellationToken.None)).ErrorCode);

        _time.Advance(TimeSpan.FromMinutes(1));
        await _authority.MeetingClosedAsync("created", "deleted", CancellationToken.None);
        var again = await LoadAsync("created");
        Assert.Equal("empty", again!.CloseReason);
        Assert.Equal(Start.AddMinutes(30).UtcDateTime, again.ClosedAt);

        // Unknown ids are nothing to record.
        await _authority.MeetingClosedAsync("never-existed", "ttl", CancellationToken.None);
    }

    [Fact]
    public async Task An_empty_ad_hoc_meeting_is_forgotten_but_one_ended_by_its_ttl_stays_closed()
    {
        await AddAsync("corridor", adhoc: true);
        await _authority.MeetingClosedAsync("corridor", "empty", CancellationToken.None);
        Assert.Null(await LoadAsync("corridor"));

        await AddAsync("long-chat", adhoc: true, ttl: TimeSpan.FromMinutes(20));
        _time.Advance(TimeSpan.FromMinutes(20));
        await _authority.MeetingClosedAsync("long-chat", "ttl", CancellationToken.None);
        var ttl = await LoadAsync("long-chat");
        Assert.Equal("ttl", ttl!.CloseReason);
        Assert.NotNull(ttl.ClosedAt);

        // One deleted through the API keeps blocking its link, even when its room then empties.
        await AddAsync("blocked", adhoc: true, closedAt: Start.UtcDateTime);
        await _authority.MeetingClosedAsync("blocked", "empty", CancellationToken.None);
        Assert.Equal("deleted", (await LoadAsync("blocked"))!.CloseReason);
    }

    [Fact]
    public async Task A_ttl_close_long_before_the_meetings_end_is_a_late_report_and_ignored()
    {
        // An ad-hoc link that started afresh while the SFU was still closing the previous meeting at that id.
        await AddAsync("renewed", adhoc: true);
        await _authority.MeetingClosedAsync("renewed", "ttl", CancellationToken.None);
        Assert.Null((await LoadAsync("renewed"))!.ClosedAt);

        // Within the tolerance for other nodes' clocks, it counts.
        _time.Advance(TimeSpan.FromHours(4) - TimeSpan.FromMinutes(2));
        await _authority.MeetingClosedAsync("renewed", "ttl", CancellationToken.None);
        Assert.Equal("ttl", (await LoadAsync("renewed"))!.CloseReason);
    }
}

public sealed class DatabaseMeetingAuthoritySqliteTests : DatabaseMeetingAuthorityTests
{
    private readonly TempDirectory _directory = new();

    protected override Task<DatabaseTarget> TargetAsync() => Task.FromResult(DatabaseUrl.Resolve(null, _directory.Path, 30));

    public override Task DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _directory.Dispose();
        return Task.CompletedTask;
    }
}

public sealed class DatabaseMeetingAuthorityPostgresTests : DatabaseMeetingAuthorityTests
{
    protected override async Task<DatabaseTarget> TargetAsync() => DatabaseUrl.Resolve(await PostgresDatabase.CreateAsync(), "/", 30);
}
