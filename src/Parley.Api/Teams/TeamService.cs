using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Parley.Api.Auth;
using Parley.Api.Http;
using Parley.Core.Teams;
using Parley.Data;

namespace Parley.Api.Teams;

/// <summary>Why a team operation did not happen: the admin API and the CLI each turn it into their own answer.</summary>
public enum TeamOutcome
{
    Ok,
    TeamNotFound,
    KeyNotFound,

    /// <summary>The team is soft-deleted: it keeps its rows until the permanent deletion, but gets no new keys.</summary>
    TeamDeleted,
}

/// <summary>The result of an operation on a team or key, or why there is none.</summary>
public readonly record struct TeamResult<T>(T? Value, TeamOutcome Outcome)
{
    public static implicit operator TeamResult<T>(TeamOutcome outcome) => new(default, outcome);
}

/// <summary>A key as the admin API and the CLI show it: never the key itself nor its hash.</summary>
public sealed record ApiKeyView(string Id, string TeamId, string Name, string Prefix, DateTime CreatedAt, DateTime? LastUsedAt, DateTime? RevokedAt)
{
    public static ApiKeyView Of(ApiKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return new(key.Id, key.TeamId, key.Name, key.Prefix, key.CreatedAt, key.LastUsedAt, key.RevokedAt);
    }
}

/// <summary>A key just created: the only time its value is shown.</summary>
public sealed record CreatedApiKey(string Id, string TeamId, string Name, string Prefix, string Key, DateTime CreatedAt);

public sealed record TeamView(string TeamId, string Name, DateTime CreatedAt, DateTime? DeletedAt)
{
    public static TeamView Of(Team team)
    {
        ArgumentNullException.ThrowIfNull(team);
        return new(team.Id, team.Name, team.CreatedAt, team.DeletedAt);
    }
}

/// <summary>A team just created, with its first key.</summary>
public sealed record CreatedTeam(string TeamId, string Name, DateTime CreatedAt, CreatedApiKey ApiKey);

/// <summary>
/// Teams and their API keys, for the admin API (/v2/teams) and the `parley teams|keys` commands alike.
/// It only touches the database: the caller drops the authenticator's cache where it has one (the CLI has
/// none; running servers then see a revocation within the cache window of <see cref="ApiKeyAuthenticator"/>).
/// </summary>
public sealed class TeamService(ParleyDbContextFactory databases, TimeProvider time)
{
    /// <summary>Makes a Parley key recognisable in logs, configs and secret scanners.</summary>
    public const string KeyPrefix = "pk_";

    /// <summary>"pk_" and 8 hex digits: enough to tell a team's keys apart, far too little to guess the rest.</summary>
    public const int StoredPrefixLength = 11;

    public const int MaxNameLength = 255;
    public const string DefaultKeyName = "default";

    /// <summary>Null when the name is acceptable, else what is wrong with it.</summary>
    public static string? CheckName(string? name, bool required)
    {
        if (name is null)
        {
            return required ? "is required" : null;
        }

        if (string.IsNullOrWhiteSpace(name) || name.Length > MaxNameLength)
        {
            return $"must be 1 to {MaxNameLength} characters, not only spaces";
        }

        return name.Any(char.IsControl) ? "must not contain control characters" : null;
    }

    public async Task<CreatedTeam> CreateTeamAsync(string name, string? keyName, CancellationToken cancellationToken)
    {
        var now = Now();
        var team = new Team { Id = Guid.CreateVersion7().ToString(), Name = name.Trim(), CreatedAt = now };
        var (key, secret) = NewKey(team.Id, keyName, now);
        await using var db = databases.CreateDbContext();
        db.Teams.Add(team);
        db.ApiKeys.Add(key);
        // One SaveChanges is one transaction: a team never exists without its first key.
        await db.SaveChangesAsync(cancellationToken);
        return new CreatedTeam(team.Id, team.Name, team.CreatedAt, Created(key, secret));
    }

    /// <summary>Newest first, keyset-paged like every list of the API.</summary>
    public async Task<(List<TeamView> Items, string? Next, string? Previous)> ListTeamsAsync(
        bool includeDeleted, Cursor? cursor, int limit, CancellationToken cancellationToken)
    {
        await using var db = databases.CreateDbContext();
        var teams = db.Teams.AsNoTracking();
        if (!includeDeleted)
        {
            teams = teams.Where(t => t.DeletedAt == null);
        }

        var (items, next, previous) = await Cursor.PageAsync(teams, t => t.Id, cursor, limit, cancellationToken);
        return ([.. items.Select(TeamView.Of)], next, previous);
    }

    public async Task<TeamView?> GetTeamAsync(string teamId, CancellationToken cancellationToken)
    {
        await using var db = databases.CreateDbContext();
        var team = await db.Teams.AsNoTracking().FirstOrDefaultAsync(t => t.Id == teamId, cancellationToken);
        return team is null ? null : TeamView.Of(team);
    }

    public async Task<TeamResult<CreatedApiKey>> CreateKeyAsync(string teamId, string? name, CancellationToken cancellationToken)
    {
        await using var db = databases.CreateDbContext();
        var team = await db.Teams.AsNoTracking().FirstOrDefaultAsync(t => t.Id == teamId, cancellationToken);
        if (team is null)
        {
            return TeamOutcome.TeamNotFound;
        }

        if (team.DeletedAt is not null)
        {
            return TeamOutcome.TeamDeleted;
        }

        var (key, secret) = NewKey(team.Id, name, Now());
        db.ApiKeys.Add(key);
        await db.SaveChangesAsync(cancellationToken);
        return new TeamResult<CreatedApiKey>(Created(key, secret), TeamOutcome.Ok);
    }

    /// <summary>Every key of the team, revoked ones included (an audit wants to see them), oldest first.</summary>
    public async Task<TeamResult<List<ApiKeyView>>> ListKeysAsync(string teamId, CancellationToken cancellationToken)
    {
        await using var db = databases.CreateDbContext();
        if (!await db.Teams.AnyAsync(t => t.Id == teamId, cancellationToken))
        {
            return TeamOutcome.TeamNotFound;
        }

        var keys = await db.ApiKeys.AsNoTracking().Where(k => k.TeamId == teamId).OrderBy(k => k.Id).ToListAsync(cancellationToken);
        return new TeamResult<List<ApiKeyView>>([.. keys.Select(ApiKeyView.Of)], TeamOutcome.Ok);
    }

    /// <summary>Revokes a key; revoking it again keeps the first revocation time.</summary>
    public async Task<TeamResult<ApiKeyView>> RevokeKeyAsync(string teamId, string keyId, CancellationToken cancellationToken)
    {
        await using var db = databases.CreateDbContext();
        if (!await db.Teams.AnyAsync(t => t.Id == teamId, cancellationToken))
        {
            return TeamOutcome.TeamNotFound;
        }

        var key = await db.ApiKeys.FirstOrDefaultAsync(k => k.Id == keyId && k.TeamId == teamId, cancellationToken);
        if (key is null)
        {
            return TeamOutcome.KeyNotFound;
        }

        if (key.RevokedAt is null)
        {
            key.RevokedAt = Now();
            await db.SaveChangesAsync(cancellationToken);
        }

        return new TeamResult<ApiKeyView>(ApiKeyView.Of(key), TeamOutcome.Ok);
    }

    /// <summary>
    /// Soft delete: the team's keys stop authenticating (the authenticator ignores deleted teams) and its
    /// rows stay until team-permanent-deletion-job removes them after the grace period. Idempotent.
    /// </summary>
    public async Task<TeamResult<TeamView>> DeleteTeamAsync(string teamId, CancellationToken cancellationToken)
    {
        await using var db = databases.CreateDbContext();
        var team = await db.Teams.FirstOrDefaultAsync(t => t.Id == teamId, cancellationToken);
        if (team is null)
        {
            return TeamOutcome.TeamNotFound;
        }

        if (team.DeletedAt is null)
        {
            team.DeletedAt = Now();
            await db.SaveChangesAsync(cancellationToken);
        }

        return new TeamResult<TeamView>(TeamView.Of(team), TeamOutcome.Ok);
    }

    /// <summary>
    /// Creates the team when it does not exist; returns whether this call created it. Replicas starting
    /// together may all try: the loser's insert fails on the primary key, and finding the row then is success.
    /// </summary>
    public async Task<bool> EnsureTeamAsync(string teamId, string name, CancellationToken cancellationToken)
    {
        await using (var db = databases.CreateDbContext())
        {
            if (await db.Teams.AnyAsync(t => t.Id == teamId, cancellationToken))
            {
                return false;
            }
        }

        try
        {
            await using var db = databases.CreateDbContext();
            db.Teams.Add(new Team { Id = teamId, Name = name, CreatedAt = Now() });
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (DbUpdateException)
        {
            await using var db = databases.CreateDbContext();
            if (await db.Teams.AnyAsync(t => t.Id == teamId, cancellationToken))
            {
                return false;
            }

            throw;
        }
    }

    private DateTime Now() => time.GetUtcNow().UtcDateTime;

    /// <summary>32 random bytes in hex after the prefix; only the SHA-256 of the whole key is stored.</summary>
    private static (ApiKey Key, string Secret) NewKey(string teamId, string? name, DateTime now)
    {
        var secret = KeyPrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        var key = new ApiKey
        {
            Id = Guid.CreateVersion7().ToString(),
            TeamId = teamId,
            Name = name?.Trim() ?? DefaultKeyName,
            Prefix = secret[..StoredPrefixLength],
            Hash = ApiKeyAuthenticator.Hash(secret),
            CreatedAt = now,
        };
        return (key, secret);
    }

    private static CreatedApiKey Created(ApiKey key, string secret) => new(key.Id, key.TeamId, key.Name, key.Prefix, secret, key.CreatedAt);
}
