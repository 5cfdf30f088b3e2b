using System.Net;
using System.Text.Json;
using Parley.Testing;

namespace Parley.Tests.Hosting;

/// <summary>`parley migrate` and `parley serve` against the PostgreSQL server test.sh starts.</summary>
public sealed class ServePostgresTests
{
    private const string Key = "0123456789abcdef0123456789abcdef";

    [Fact]
    public async Task Serve_refuses_an_unmigrated_database_then_migrate_makes_it_ready()
    {
        var url = await PostgresDatabase.CreateAsync();
        using var dir = new TempDirectory();
        var env = new Dictionary<string, string?> { ["DATABASE_URL"] = url, ["STATIC_API_KEY"] = Key, ["PARLEY_DATA_DIR"] = Path.Combine(dir.Path, "data") };

        var refused = await ParleyProcess.RunAsync(["serve", "--port", ParleyProcess.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture)], env, dir.Path);
        Assert.True(refused.ExitCode == 2, $"exit {refused.ExitCode}\n{refused.Stdout}\n{refused.Stderr}");
        Assert.Contains("migration(s) pending", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("run `parley migrate`", refused.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", refused.Stderr, StringComparison.Ordinal);

        var migrated = await ParleyProcess.RunAsync(["migrate"], env, dir.Path);
        Assert.True(migrated.ExitCode == 0, $"exit {migrated.ExitCode}\n{migrated.Stdout}\n{migrated.Stderr}");
        Assert.Matches(@"applied [1-9][0-9]* migration\(s\)", migrated.Stdout);

        var again = await ParleyProcess.RunAsync(["migrate"], env, dir.Path);
        Assert.Equal(0, again.ExitCode);
        Assert.Contains("is up to date", again.Stdout, StringComparison.Ordinal);

        await using var server = RunningServer.Start(env, directory: dir);
        using var ready = await server.WaitForStatusAsync("/ready", HttpStatusCode.OK);
        var health = await server.Http.GetStringAsync("/health");
        using var json = JsonDocument.Parse(health);
        var database = json.RootElement.GetProperty("components").GetProperty("database");
        Assert.Equal("up", database.GetProperty("status").GetString());
        Assert.StartsWith("PostgreSQL 127.0.0.1:", database.GetProperty("description").GetString(), StringComparison.Ordinal);
        // With a configured key nothing is generated or stored.
        Assert.False(File.Exists(Path.Combine(dir.Path, "data", "api-key")));

        server.Process.Terminate();
        Assert.Equal(0, await server.Process.WaitForExitAsync(TimeSpan.FromSeconds(40)));
    }

    [Fact]
    public async Task Migrate_on_start_migrates_a_fresh_database()
    {
        var url = await PostgresDatabase.CreateAsync();

        await using var server = RunningServer.Start(new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = url,
            ["STATIC_API_KEY"] = Key,
            ["PARLEY_MIGRATE_ON_START"] = "true",
        });

        await server.WaitForStatusAsync("/ready", HttpStatusCode.OK);
        server.Process.Terminate();
        Assert.Equal(0, await server.Process.WaitForExitAsync(TimeSpan.FromSeconds(40)));
    }

    [Fact]
    public async Task Migrate_reports_an_unreachable_database_without_a_stack_trace()
    {
        using var dir = new TempDirectory();
        var env = new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = $"postgres://parley:pw@127.0.0.1:{ParleyProcess.FreePort()}/parley",
            ["PARLEY_DATABASE_TIMEOUT_SECONDS"] = "2",
            ["STATIC_API_KEY"] = Key,
        };

        var (code, _, stderr) = await ParleyProcess.RunAsync(["migrate"], env, dir.Path);

        Assert.Equal(1, code);
        Assert.Contains("parley migrate: PostgreSQL 127.0.0.1:", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }
}
