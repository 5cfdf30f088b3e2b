using Parley.Core.SfuNodes;
using Parley.Data;
using Parley.Testing;

namespace Parley.Tests.Cli;

/// <summary>The `sfu-nodes` line of `parley doctor` in an api process without the sfu role.</summary>
public sealed class DoctorSfuNodesTests
{
    [Fact]
    public async Task An_api_without_the_sfu_role_lists_the_live_sfu_nodes_or_fails_without_one()
    {
        using var dir = new TempDirectory();
        var data = Path.Combine(dir.Path, "data");
        Assert.Equal(0, (await ParleyProcess.RunAsync(["migrate", "--data-dir", data], new Dictionary<string, string?>(), dir.Path)).ExitCode);
        var environment = new Dictionary<string, string?> { ["PARLEY_DATA_DIR"] = data, ["PARLEY_ROLES"] = "api" };

        var (code, stdout, _) = await ParleyProcess.RunAsync(["doctor"], environment, dir.Path);
        Assert.Equal(1, code);
        Assert.Contains("FAIL sfu-nodes: no live SFU node", stdout, StringComparison.Ordinal);
        Assert.Contains("-> start `parley serve --roles sfu`", stdout, StringComparison.Ordinal);

        var databases = new ParleyDbContextFactory(DatabaseUrl.Resolve(null, data, 30));
        await using (var db = databases.CreateDbContext())
        {
            db.SfuNodes.Add(new SfuNode { Id = "sfu-a", InternalUrl = "http://10.0.0.5:3001", Participants = 12, Rooms = 3, StartedAt = DateTime.UtcNow, HeartbeatAt = DateTime.UtcNow.AddMinutes(5) });
            db.SfuNodes.Add(new SfuNode { Id = "sfu-gone", InternalUrl = "http://10.0.0.6:3001", StartedAt = DateTime.UtcNow, HeartbeatAt = DateTime.UtcNow.AddHours(-1) });
            await db.SaveChangesAsync();
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        (code, stdout, _) = await ParleyProcess.RunAsync(["doctor"], environment, dir.Path);
        Assert.Contains("OK   sfu-nodes: 1 live (sfu-a http://10.0.0.5:3001 12 participant(s) in 3 meeting(s)); 0 meeting(s) placed", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("sfu-gone", stdout, StringComparison.Ordinal);

        // With the sfu role (the default), the line is not there: signaling is local.
        environment["PARLEY_ROLES"] = "api,sfu";
        (_, stdout, _) = await ParleyProcess.RunAsync(["doctor"], environment, dir.Path);
        Assert.DoesNotContain("sfu-nodes", stdout, StringComparison.Ordinal);
    }
}
