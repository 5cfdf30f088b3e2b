using System.CommandLine;
using Parley.Hosting;

namespace Parley.Cli;

/// <summary>The `parley` command tree. Later features add their commands here.</summary>
internal static class ParleyCommandLine
{
    public static RootCommand Build()
    {
        var root = new RootCommand("Parley: self-hosted meetings, meeting bots and their orchestration.");
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(MigrateCommand.Create());
        root.Subcommands.Add(VersionCommand.Create());
        root.Subcommands.Add(JobCommand.Create());
        root.Subcommands.Add(DoctorCommand.Create());
        root.Subcommands.Add(TeamsCommand.Create());
        root.Subcommands.Add(KeysCommand.Create());
        root.Subcommands.Add(BotCommand.Create());
        root.Subcommands.Add(LoadtestCommand.Create());
        return root;
    }

    public static async Task<int> InvokeAsync(string[] args)
    {
        var parse = Build().Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                await Console.Error.WriteLineAsync($"parley: {error.Message}");
            }

            await Console.Error.WriteLineAsync("Run `parley --help` for usage.");
            return ExitCodes.ConfigurationError;
        }

        // The generic host handles SIGTERM and Ctrl-C itself and drains in-flight requests; the command
        // line library's own handler would cut that short after its timeout, so it is turned off.
        return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
    }
}
