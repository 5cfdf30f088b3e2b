using System.CommandLine;
using Parley.Hosting;

namespace Parley.Cli;

/// <summary>`parley version`: the version, commit and runtime, for bug reports.</summary>
internal static class VersionCommand
{
    public static Command Create()
    {
        var command = new Command("version", "Prints the Parley version, commit and .NET runtime.");
        command.SetAction(_ =>
        {
            var commit = VersionInfo.Commit is { } c ? $" ({c})" : "";
            Console.Out.WriteLine($"parley {VersionInfo.Version}{commit} on .NET {Environment.Version}");
            return ExitCodes.Success;
        });
        return command;
    }
}
