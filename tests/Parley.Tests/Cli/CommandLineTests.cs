using Parley.Testing;

namespace Parley.Tests.Cli;

public sealed class CommandLineTests
{
    private static async Task<(int ExitCode, string Stdout, string Stderr)> Run(params string[] arguments)
    {
        using var dir = new TempDirectory();
        return await ParleyProcess.RunAsync(arguments, new Dictionary<string, string?>(), dir.Path);
    }

    [Theory]
    [InlineData("serve", "--roles")]
    [InlineData("migrate", "--config")]
    [InlineData("version", "Prints the Parley version")]
    public async Task Every_command_has_help(string command, string expected)
    {
        var (code, stdout, _) = await Run(command, "--help");

        Assert.Equal(0, code);
        Assert.Contains(expected, stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_root_help_lists_the_commands()
    {
        var (code, stdout, _) = await Run("--help");

        Assert.Equal(0, code);
        Assert.Contains("serve", stdout, StringComparison.Ordinal);
        Assert.Contains("migrate", stdout, StringComparison.Ordinal);
        Assert.Contains("version", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Version_prints_the_version_and_runtime()
    {
        var (code, stdout, _) = await Run("version");

        Assert.Equal(0, code);
        Assert.Matches(@"^parley \d+\.\d+\.\d+.* on \.NET 10\.", stdout);
    }

    [Fact]
    public async Task An_unknown_command_or_option_exits_2_with_usage_advice()
    {
        var (code, _, stderr) = await Run("serv");
        Assert.Equal(2, code);
        Assert.Contains("parley --help", stderr, StringComparison.Ordinal);

        var (optionCode, _, optionStderr) = await Run("serve", "--no-such-option");
        Assert.Equal(2, optionCode);
        Assert.Contains("--no-such-option", optionStderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Migrate_creates_and_migrates_the_embedded_database()
    {
        using var dir = new TempDirectory();
        var data = Path.Combine(dir.Path, "d");

        var (code, stdout, stderr) = await ParleyProcess.RunAsync(["migrate", "--data-dir", data], new Dictionary<string, string?>(), dir.Path);

        Assert.True(code == 0, stderr);
        Assert.Matches(@"applied [1-9][0-9]* migration\(s\)", stdout);
        Assert.True(File.Exists(Path.Combine(data, "parley.db")));
    }
}
