using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Parley.Api.Operations;

namespace Parley.Hosting;

/// <summary>The roles this process was asked to run.</summary>
public sealed record ServerRoles(IReadOnlyList<string> Names)
{
    /// <summary>Roles whose implementation ships in this build; the others are accepted and reported.</summary>
    public static readonly IReadOnlySet<string> Available = new HashSet<string>(StringComparer.Ordinal) { "api", "jobs", "orchestrator", "sfu" };

    public bool Has(string role) => Names.Contains(role, StringComparer.Ordinal);
}

/// <summary>
/// Reports each configured role at start and tells readiness when they are all up. A role that is not in
/// this build yet is accepted, so manifests written for the full system already start.
/// </summary>
public sealed partial class RoleStartup(ServerRoles roles, ReadinessState readiness, IHostApplicationLifetime lifetime, ILogger<RoleStartup> logger)
    : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var role in roles.Names)
        {
            if (ServerRoles.Available.Contains(role))
            {
                LogRoleStarted(logger, role);
            }
            else
            {
                LogRoleUnavailable(logger, role);
            }
        }

        // Hosted services start before Kestrel accepts connections; ApplicationStarted fires after both.
        lifetime.ApplicationStarted.Register(readiness.MarkRolesStarted);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 200, Level = LogLevel.Information, Message = "Role {Role} started")]
    private static partial void LogRoleStarted(ILogger logger, string role);

    [LoggerMessage(EventId = 201, Level = LogLevel.Warning, Message = "Role {Role} is not available in this build yet; accepted and not started")]
    private static partial void LogRoleUnavailable(ILogger logger, string role);
}
