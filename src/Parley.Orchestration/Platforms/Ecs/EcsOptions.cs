using Parley.Core.Bots;
using Parley.Core.Configuration;

namespace Parley.Orchestration.Platforms.Ecs;

/// <summary>
/// The `aws` platform: one Fargate task per bot. The names are Meeboter's (AWS_ECS_*), so its `.env` keeps
/// working; region and credentials come from <see cref="Parley.Infrastructure.Aws.AwsOptions"/>.
/// </summary>
public sealed class EcsOptions : ISettingsValidation
{
    public const string SectionName = "Ecs";

    [Setting("AWS_ECS_CLUSTER", Description = "ECS cluster the bot tasks run in (name or ARN).")]
    public string? Cluster { get; set; }

    [Setting("AWS_ECS_SUBNETS", Description = "Subnets of the bot tasks (awsvpc network mode), comma-separated.")]
    public string[]? Subnets { get; set; }

    [Setting("AWS_ECS_SECURITY_GROUPS", Description = "Security groups of the bot tasks, comma-separated. Unset: the VPC's default group.")]
    public string[]? SecurityGroups { get; set; }

    // AWS's own default is DISABLED; Meeboter's layout (public subnets, no NAT gateway) needs it on.
    [Setting("AWS_ECS_ASSIGN_PUBLIC_IP", Description = "Give each bot task a public IP (needed in public subnets without a NAT gateway).")]
    public bool AssignPublicIp { get; set; }

    [Setting("AWS_ECS_TASK_DEF_GOOGLE_MEET", Description = "Task definition (family, family:revision or ARN) of Google Meet bots.")]
    public string? TaskDefinitionGoogleMeet { get; set; }

    [Setting("AWS_ECS_TASK_DEF_MICROSOFT_TEAMS", Description = "Task definition of Microsoft Teams bots.")]
    public string? TaskDefinitionMicrosoftTeams { get; set; }

    [Setting("AWS_ECS_TASK_DEF_ZOOM", Description = "Task definition of Zoom bots.")]
    public string? TaskDefinitionZoom { get; set; }

    [Setting("AWS_ECS_TASK_DEF_PARLEY", Description = "Task definition of bots for Parley's own meetings.")]
    public string? TaskDefinitionParley { get; set; }

    [Setting("AWS_ECS_CONTAINER_NAME", Description = "Container of the task definitions that runs `parley bot run` and receives the bot's environment.")]
    public string ContainerName { get; set; } = "bot";

    [Setting("AWS_ENDPOINT_URL_ECS", Description = "Endpoint of an ECS-compatible server (moto). Unset: AWS_ENDPOINT_URL, else AWS.", Schemes = ["http", "https"])]
    public Uri? EndpointUrl { get; set; }

    /// <summary>The task definition configured for a meeting platform (API.md's `meeting_platform` values).</summary>
    public string? TaskDefinitionFor(string meetingPlatform) => meetingPlatform switch
    {
        MeetingPlatform.Meet => TaskDefinitionGoogleMeet,
        MeetingPlatform.Teams => TaskDefinitionMicrosoftTeams,
        MeetingPlatform.Zoom => TaskDefinitionZoom,
        MeetingPlatform.Parley => TaskDefinitionParley,
        _ => null,
    };

    /// <summary>Every configured task definition (what ListAsync looks through).</summary>
    public IEnumerable<string> TaskDefinitions =>
        new[] { TaskDefinitionGoogleMeet, TaskDefinitionMicrosoftTeams, TaskDefinitionZoom, TaskDefinitionParley }
            .Where(t => !string.IsNullOrWhiteSpace(t)).Select(t => t!).Distinct(StringComparer.Ordinal);

    /// <summary>
    /// The orchestrator uses `aws` only when it is in PLATFORM_PRIORITY with a limit (otherwise it is skipped
    /// with a warning); only then are the ECS settings needed, and then all of them, because a bot whose
    /// meeting platform has no task definition could never start.
    /// </summary>
    public static bool IsEnabled(Func<string, string?> raw)
    {
        ArgumentNullException.ThrowIfNull(raw);
        var priority = raw("PLATFORM_PRIORITY") ?? "";
        var listed = priority.Split(',', StringSplitOptions.TrimEntries).Any(p => p.Equals("aws", StringComparison.OrdinalIgnoreCase));
        return listed && !string.IsNullOrWhiteSpace(raw("AWS_BOT_LIMIT"));
    }

    /// <summary>The same rule on bound options: what decides whether the platform is registered.</summary>
    public static bool IsSelected(OrchestratorOptions orchestrator)
    {
        ArgumentNullException.ThrowIfNull(orchestrator);
        return orchestrator.Chain.Contains(EcsPlatform.PlatformName) && orchestrator.AwsBotLimit is not null;
    }

    public void Validate(SettingsValidationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!IsEnabled(context.Raw))
        {
            return;
        }

        const string Why = "required when PLATFORM_PRIORITY includes aws and AWS_BOT_LIMIT is set";
        Require(context, "AWS_ECS_CLUSTER", Cluster, Why);
        if (Subnets is not { Length: > 0 })
        {
            context.Add("AWS_ECS_SUBNETS", context.Raw("AWS_ECS_SUBNETS"), Why + " (comma-separated subnet ids)");
        }

        Require(context, "AWS_ECS_TASK_DEF_GOOGLE_MEET", TaskDefinitionGoogleMeet, Why);
        Require(context, "AWS_ECS_TASK_DEF_MICROSOFT_TEAMS", TaskDefinitionMicrosoftTeams, Why);
        Require(context, "AWS_ECS_TASK_DEF_ZOOM", TaskDefinitionZoom, Why);
        Require(context, "AWS_ECS_TASK_DEF_PARLEY", TaskDefinitionParley, Why);
        if (string.IsNullOrWhiteSpace(ContainerName))
        {
            context.Add("AWS_ECS_CONTAINER_NAME", ContainerName, "expected the name of the bot container in the task definitions");
        }
    }

    private static void Require(SettingsValidationContext context, string variable, string? value, string why)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            context.Add(variable, value, why);
        }
    }
}
