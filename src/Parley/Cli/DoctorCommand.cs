using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Parley.Hosting;

namespace Parley.Cli;

/// <summary>`parley doctor`: checks the configuration and every configured dependency, one line each.</summary>
internal static class DoctorCommand
{
    public static Command Create()
    {
        var settings = new SettingsOptions();
        var command = new Command("doctor", "Checks the configuration and each configured dependency (database, Redis, storage, queue, ffmpeg, Chromium, listen port, RTC UDP ports, ANNOUNCED_IP, TURN, Kubernetes RBAC, ECS, Coolify); exit 0 when nothing fails.");
        settings.AddTo(command);
        command.SetAction((parse, cancellationToken) => RunAsync(parse, settings, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, SettingsOptions settingsOptions, CancellationToken cancellationToken)
    {
        // The check lines are the output; library chatter at info would interleave with them.
        if (!settingsOptions.TryLoad(parse, [new("LOG_LEVEL", "warn")], out var settings))
        {
            Console.Out.WriteLine("FAIL configuration: see the lines above -> fix them and run `parley doctor` again");
            return ExitCodes.ConfigurationError;
        }

        using var host = CommandHost.Build(settings, out var database);
        if (host is null)
        {
            return ExitCodes.ConfigurationError;
        }

        var checks = await new Doctor(host.Services, settings, database).RunAsync(cancellationToken);
        foreach (var check in checks)
        {
            Console.Out.WriteLine(check.ToString());
        }

        var failed = checks.Count(c => c.Level == CheckLevel.Fail);
        Console.Out.WriteLine(failed == 0 ? "No check failed." : $"{failed} check(s) failed.");
        return failed == 0 ? ExitCodes.Success : ExitCodes.Failure;
    }
}
