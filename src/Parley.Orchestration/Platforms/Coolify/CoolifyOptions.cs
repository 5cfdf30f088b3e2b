using Parley.Core.Configuration;

namespace Parley.Orchestration.Platforms.Coolify;

/// <summary>
/// The Coolify pool (Meeboter's names): where the Coolify API is, which project, server, environment and
/// destination the slot applications live in, and the image they run. The limit and deployment timeout
/// are the orchestrator's (COOLIFY_BOT_LIMIT, COOLIFY_QUEUE_TIMEOUT_MS).
/// </summary>
public sealed class CoolifyOptions : ISettingsValidation
{
    public const string SectionName = "Coolify";

    [Setting("COOLIFY_API_URL", Description = "Coolify API base URL, with its /api/v1 path.", Schemes = ["http", "https"])]
    public Uri? ApiUrl { get; set; }

    [Setting("COOLIFY_API_TOKEN", Description = "Coolify API token (read and write).", Secret = true)]
    public string? ApiToken { get; set; }

    [Setting("COOLIFY_PROJECT_UUID", Description = "Project the slot applications are created in.")]
    public string? ProjectUuid { get; set; }

    [Setting("COOLIFY_SERVER_UUID", Description = "Server the slot applications run on.")]
    public string? ServerUuid { get; set; }

    [Setting("COOLIFY_ENVIRONMENT_NAME", Description = "Environment of the project the slots belong to.")]
    public string EnvironmentName { get; set; } = "production";

    [Setting("COOLIFY_DESTINATION_UUID", Description = "Docker destination on the server; needed when the server has several.")]
    public string? DestinationUuid { get; set; }

    [Setting("COOLIFY_BOT_IMAGE", Description = "Image a slot runs; its command must run `parley bot run` (which reads BOT_ID from the environment).")]
    public string BotImage { get; set; } = "ghcr.io/parley/parley";

    [Setting("COOLIFY_BOT_IMAGE_TAG", Description = "Tag of COOLIFY_BOT_IMAGE.")]
    public string BotImageTag { get; set; } = "latest";

    [Setting("COOLIFY_RECOVERY_INTERVAL_MS", Description = "How often the pool recovers or replaces slots in ERROR.", Min = 1000, Max = 86400000)]
    public int RecoveryIntervalMs { get; set; } = 300000;

    /// <summary>Coolify takes bots: listed in PLATFORM_PRIORITY with COOLIFY_BOT_LIMIT set.</summary>
    public static bool IsSelected(OrchestratorOptions orchestrator) =>
        orchestrator is not null && orchestrator.Chain.Contains("coolify") && orchestrator.CoolifyBotLimit is not null;

    public void Validate(SettingsValidationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var priority = context.Raw("PLATFORM_PRIORITY") ?? "";
        var selected = priority.Split(',').Any(p => p.Trim().Equals("coolify", StringComparison.OrdinalIgnoreCase))
            && !string.IsNullOrWhiteSpace(context.Raw("COOLIFY_BOT_LIMIT"));
        if (!selected)
        {
            return;
        }

        foreach (var (variable, value, secret) in new[]
        {
            ("COOLIFY_API_URL", ApiUrl?.OriginalString, false),
            ("COOLIFY_API_TOKEN", ApiToken, true),
            ("COOLIFY_PROJECT_UUID", ProjectUuid, false),
            ("COOLIFY_SERVER_UUID", ServerUuid, false),
        })
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                context.Add(variable, value, "required when PLATFORM_PRIORITY lists coolify and COOLIFY_BOT_LIMIT is set", secret);
            }
        }
    }
}
