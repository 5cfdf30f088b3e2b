using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Parley.Core.Configuration;
using Parley.Data;

namespace Parley.Hosting;

public sealed partial class Doctor
{
    /// <summary>
    /// An api process without the sfu role relays every meeting's signaling to an SFU node from the registry:
    /// with no live node, every join ends in SFU_UNAVAILABLE.
    /// </summary>
    private async Task<DoctorCheck> SfuNodesAsync(bool databaseReady, CancellationToken cancellationToken)
    {
        if (!databaseReady)
        {
            return new("sfu-nodes", CheckLevel.Warn, "not checked: the database is not ready", "fix the database line first");
        }

        var options = settings.Get<SfuNodeOptions>();
        var cutoff = DateTime.UtcNow - options.NodeTimeout;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Timeout);
            await using var db = services.GetRequiredService<ParleyDbContextFactory>().CreateDbContext();
            var nodes = await db.SfuNodes.AsNoTracking().Where(n => n.HeartbeatAt >= cutoff)
                .OrderBy(n => n.Participants).ThenBy(n => n.Id).ToListAsync(timeout.Token);
            var placements = await db.MeetingPlacements.CountAsync(timeout.Token);
            if (nodes.Count == 0)
            {
                return new("sfu-nodes", CheckLevel.Fail, $"no live SFU node (none heartbeat within {options.NodeTimeoutSeconds} s)",
                    "start `parley serve --roles sfu` with the same DATABASE_URL and JWT_SECRET; until then joins get SFU_UNAVAILABLE");
            }

            var list = string.Join("; ", nodes.Select(n => string.Create(CultureInfo.InvariantCulture,
                $"{n.Id} {n.InternalUrl} {n.Participants} participant(s) in {n.Rooms} meeting(s){(n.Draining ? ", draining" : "")}")));
            var detail = $"{nodes.Count} live ({list}); {placements} meeting(s) placed";
            return nodes.All(n => n.Draining)
                ? new("sfu-nodes", CheckLevel.Warn, detail, "every node is draining: new meetings get SFU_UNAVAILABLE until a node starts")
                : new("sfu-nodes", CheckLevel.Ok, detail);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return new("sfu-nodes", CheckLevel.Fail, $"the node registry could not be read: {ex.GetBaseException().Message}", "check the database line");
        }
    }
}
