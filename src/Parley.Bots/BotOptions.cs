using Parley.Core.Configuration;

namespace Parley.Bots;

/// <summary>
/// Settings of `parley bot run`. BOT_ID, PARLEY_API_URL and BOT_TOKEN are what a platform hands each bot
/// process (issue 4); they are settings rather than bare variables so that the usual sources apply
/// (environment, --set, a settings file), the token is masked in problem lines, and PARLEY_API_URL is not
/// reported as an unknown PARLEY_ variable. The command's flags --bot-id, --api-url and --token win.
/// </summary>
public sealed class BotOptions : ISettingsValidation
{
    public const string SectionName = "Bot";

    /// <summary>The only test adapter there is; see <see cref="Adapters.Scripted.ScriptedMeetingAdapter"/>.</summary>
    public const string ScriptedAdapter = "scripted";

    [Setting("BOT_ID", Description = "Id of the bot this process runs (`parley bot run`); the --bot-id flag wins.")]
    public string? BotId { get; set; }

    [Setting("PARLEY_API_URL", Description = "Base URL of the Parley API a bot process reports to (`parley bot run`).", Schemes = ["http", "https"])]
    public Uri? ApiUrl { get; set; }

    [Setting("BOT_TOKEN", Description = "The bot's own token for the bot-facing internal API, minted by the orchestrator.", Secret = true)]
    public string? Token { get; set; }

    [Setting("BOT_HEARTBEAT_INTERVAL_MS", Description = "How often a running bot sends a heartbeat; the reply can tell it to leave, send chat or pause recording.", Min = 100, Max = 600000)]
    public int HeartbeatIntervalMs { get; set; } = 10000;

    [Setting("PARLEY_BOT_API_RETRY_BUDGET_MS", Description = "How long a bot keeps retrying one API call (connection refused, 5xx, 429) with exponential backoff before giving up.", Min = 0, Max = 3600000)]
    public int ApiRetryBudgetMs { get; set; } = 120000;

    [Setting("PARLEY_BOT_QUEUE_WAIT_MS", Description = "`parley bot run --from-queue`: how long to wait for a job before exiting with nothing to do.", Min = 0, Max = 600000)]
    public int QueueWaitMs { get; set; } = 20000;

    [Setting("PARLEY_BOT_QUEUE_VISIBILITY_SECONDS", Description = "`--from-queue`: how long the received job stays invisible to other consumers; longer than the longest meeting (SQS allows 43200).", Min = 30, Max = 43200)]
    public int QueueVisibilitySeconds { get; set; } = 43200;

    [Setting("PARLEY_BOT_TEST_ADAPTER", Description = "Diagnostics and tests only: `scripted` makes every meeting platform use the scripted adapter, which plays PARLEY_BOT_SCRIPT instead of joining a meeting.", AllowedValues = [ScriptedAdapter])]
    public string? TestAdapter { get; set; }

    [Setting("PARLEY_BOT_SCRIPT", Description = "The JSON script the scripted adapter plays (docs/operations.md, \"Bot runtime\"); read only with PARLEY_BOT_TEST_ADAPTER=scripted.")]
    public string? Script { get; set; }

    /// <summary>
    /// Where a recording that cannot be uploaded is kept: PARLEY_FALLBACK_STORAGE_DIR (or PARLEY_DATA_DIR/fallback),
    /// resolved by `parley bot run` from <see cref="Core.Storage.FallbackStorageOptions"/>, which the jobs role
    /// reads too. Not a setting of its own: one variable, one owner. Null: no fallback, an upload that keeps
    /// failing fails the bot with UPLOAD_FAILED.
    /// </summary>
    public string? FallbackStorageDirectory { get; set; }

    public void Validate(SettingsValidationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        // A script without the switch would be silently ignored, and a switch without a script cannot do
        // anything: both are mistakes worth stopping for.
        if (TestAdapter is null && Script is not null)
        {
            context.Add("PARLEY_BOT_SCRIPT", "(set)", "only used with PARLEY_BOT_TEST_ADAPTER=scripted; unset it or set the adapter");
        }

        if (TestAdapter is not null && string.IsNullOrWhiteSpace(Script))
        {
            context.Add("PARLEY_BOT_SCRIPT", null, "required with PARLEY_BOT_TEST_ADAPTER=scripted: a JSON script of steps");
        }
        else if (TestAdapter is not null && Adapters.Scripted.MeetingScript.TryParse(Script!, out _) is { } error)
        {
            context.Add("PARLEY_BOT_SCRIPT", Script, error);
        }
    }
}
