using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Parley.Core.Bots;
using Parley.Data;

namespace Parley.Api.Internal;

/// <summary>
/// Per-bot credentials for the bot-facing API. A token is minted when a bot is handed to a platform, only
/// its SHA-256 is stored, it authorises calls for that one bot, and it stops working when the bot ends (the
/// hash is cleared with the terminal status). Meeboter's bot endpoints have no authentication at all.
/// </summary>
public sealed class BotTokens(ParleyDbContextFactory databases, TimeProvider time)
{
    public const string Prefix = "pbt_";

    /// <summary>Mints a token for a deployment, recording where the bot runs. Null when the bot is missing or ended.</summary>
    public async Task<string?> IssueAsync(string botId, string platform, string? identifier, CancellationToken cancellationToken)
    {
        var token = Prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        var hash = Hash(token);
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = databases.CreateDbContext();
        var updated = await db.Bots
            .Where(b => b.Id == botId && b.Status != BotStatus.Completed && b.Status != BotStatus.Failed)
            .ExecuteUpdateAsync(s => s
                .SetProperty(b => b.BotTokenHash, hash)
                .SetProperty(b => b.DeploymentPlatform, platform)
                .SetProperty(b => b.DeploymentIdentifier, identifier)
                .SetProperty(b => b.UpdatedAt, now), cancellationToken);
        return updated == 1 ? token : null;
    }

    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>Checks `Authorization: Bearer &lt;token&gt;` against the bot's stored hash in constant time.</summary>
    public static async Task<bool> VerifyAsync(HttpContext http, ParleyDbContext db, string botId)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(db);
        var header = http.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || header.Length > 256)
        {
            return false;
        }

        var stored = await db.Bots.AsNoTracking().Where(b => b.Id == botId).Select(b => b.BotTokenHash).FirstOrDefaultAsync(http.RequestAborted);
        if (stored is null)
        {
            return false;
        }

        var presented = Encoding.ASCII.GetBytes(Hash(header["Bearer ".Length..].Trim()));
        return CryptographicOperations.FixedTimeEquals(presented, Encoding.ASCII.GetBytes(stored));
    }
}
