using System.Reflection;

namespace Parley.Orchestration.Platforms.Local;

/// <summary>
/// The program a local bot runs: by default this very executable with `bot run --bot-id ID`. Tests pass
/// another program (a script standing in for the bot runtime); it receives the same arguments.
/// </summary>
public sealed record LocalBotCommand(string FileName, IReadOnlyList<string> LeadingArguments)
{
    /// <summary>
    /// The running executable. Under `dotnet parley.dll` the process path is the dotnet host, which needs the
    /// dll as its first argument; the apphost (`parley`) or a single-file build runs as it is.
    /// </summary>
    public static LocalBotCommand Current()
    {
        var processPath = Environment.ProcessPath ?? throw new InvalidOperationException("The path of the running executable is unknown.");
        var host = Path.GetFileNameWithoutExtension(processPath);
        var entry = Assembly.GetEntryAssembly()?.Location;
        if (host.Equals("dotnet", StringComparison.OrdinalIgnoreCase) && !string.IsNullOrEmpty(entry))
        {
            return new LocalBotCommand(processPath, [entry]);
        }

        return new LocalBotCommand(processPath, []);
    }

    public IReadOnlyList<string> ArgumentsFor(string botId) => [.. LeadingArguments, "bot", "run", "--bot-id", botId];
}
