using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Parley.Core.Configuration;
using Parley.Data;

namespace Parley.Api.Auth;

/// <summary>
/// Turns an `x-meeting-baas-api-key` into a team. Single-tenant: the static key, compared in constant time.
/// Multi-tenant: the key's SHA-256 looked up among the teams' keys, cached for a few seconds so a hot API does
/// not hit the database on every call (a revoked key stops working within that time).
/// </summary>
public sealed class ApiKeyAuthenticator(
    FeatureOptions features,
    AuthOptions auth,
    ParleyDbContextFactory databases,
    TimeProvider time,
    StaticApiKey? staticKey = null)
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, (TeamContext? Team, DateTime Until)> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTime> _lastUsedWritten = new(StringComparer.Ordinal);
    private readonly byte[]? _staticHash = staticKey is null ? null : SHA256.HashData(Encoding.UTF8.GetBytes(staticKey.Value));

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    public async Task<TeamContext?> AuthenticateAsync(string? key, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(key) || key.Length > 512)
        {
            return null;
        }

        if (!features.MultiTenant)
        {
            // Hashing both sides gives equal lengths, which FixedTimeEquals needs to be constant-time.
            var presented = SHA256.HashData(Encoding.UTF8.GetBytes(key));
            return _staticHash is not null && CryptographicOperations.FixedTimeEquals(presented, _staticHash)
                ? new TeamContext(auth.StaticTeamId, null)
                : null;
        }

        var hash = Hash(key);
        var now = time.GetUtcNow().UtcDateTime;
        if (_cache.TryGetValue(hash, out var cached) && cached.Until > now)
        {
            return cached.Team;
        }

        await using var db = databases.CreateDbContext();
        var found = await db.ApiKeys.AsNoTracking()
            .Where(k => k.Hash == hash && k.RevokedAt == null)
            .Join(db.Teams.Where(t => t.DeletedAt == null), k => k.TeamId, t => t.Id, (k, t) => new { k.Id, k.TeamId })
            .FirstOrDefaultAsync(cancellationToken);
        var team = found is null ? null : new TeamContext(found.TeamId, found.Id);
        _cache[hash] = (team, now + CacheFor);

        if (found is not null && (!_lastUsedWritten.TryGetValue(found.Id, out var written) || now - written > LastUsedResolution))
        {
            _lastUsedWritten[found.Id] = now;
            await db.ApiKeys.Where(k => k.Id == found.Id).ExecuteUpdateAsync(s => s.SetProperty(k => k.LastUsedAt, now), cancellationToken);
        }

        return team;
    }

    /// <summary>Drops cached lookups, so that a revocation or team deletion applies at once on this replica.</summary>
    public void Invalidate() => _cache.Clear();
}
