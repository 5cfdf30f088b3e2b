namespace Parley.Core.Configuration;

/// <summary>
/// The Meeting BaaS feature flags. All default to false; each flag that is on needs the settings that the
/// Meeting BaaS self-hosting guide lists under "Optional Variables" for it, and naming them at start is
/// better than a 500 on the first request that needs one.
/// </summary>
public sealed class FeatureOptions : ISettingsValidation
{
    public const string SectionName = "Features";

    [Setting("SELF_HOSTED", Description = "Self-hosted mode (reported by /status/features).")]
    public bool SelfHosted { get; set; }

    [Setting("ENABLE_STRIPE", Description = "Stripe billing and tokens. Needs STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET, STRIPE_PRO_SUBSCRIPTION_PRODUCT_ID, STRIPE_PRO_SUBSCRIPTION_PRICE_ID.")]
    public bool Stripe { get; set; }

    [Setting("ENABLE_SVIX", Description = "Svix managed webhooks instead of direct delivery. Needs SVIX_URL, SVIX_JWT_SECRET.")]
    public bool Svix { get; set; }

    [Setting("ENABLE_CALENDAR", Description = "Calendar integration. Needs CALENDAR_CREDENTIALS_KEY, GOOGLE_ID, GOOGLE_SECRET, API_SERVER_BASEURL.")]
    public bool Calendar { get; set; }

    [Setting("ENABLE_MULTI_TENANT", Description = "Teams and per-team API keys instead of STATIC_API_KEY.")]
    public bool MultiTenant { get; set; }

    [Setting("ENABLE_DASHBOARD", Description = "Dashboard routes. Needs BETTER_AUTH_SECRET, FRONTEND_BASEURL, TRUSTED_ORIGINS and a Google or GitHub OAuth pair.")]
    public bool Dashboard { get; set; }

    [Setting("ENABLE_TRANSCRIPTION", Description = "Transcription through Gladia. Needs GLADIA_API_KEY, AWS_S3_AUDIO_CHUNKS_BUCKET.")]
    public bool Transcription { get; set; }

    [Setting("ENABLE_EMAIL", Description = "Email notifications through Resend. Needs RESEND_API_KEY, RESEND_EMAIL_FROM, SUPPORT_EMAIL.")]
    public bool Email { get; set; }

    /// <summary>What each flag needs, by variable name (see the Meeting BaaS guide, "Optional Variables").</summary>
    public static readonly IReadOnlyDictionary<string, string[]> RequiredSettings = new Dictionary<string, string[]>
    {
        ["ENABLE_STRIPE"] = ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_PRO_SUBSCRIPTION_PRODUCT_ID", "STRIPE_PRO_SUBSCRIPTION_PRICE_ID"],
        ["ENABLE_SVIX"] = ["SVIX_URL", "SVIX_JWT_SECRET"],
        ["ENABLE_CALENDAR"] = ["CALENDAR_CREDENTIALS_KEY", "GOOGLE_ID", "GOOGLE_SECRET", "API_SERVER_BASEURL"],
        ["ENABLE_DASHBOARD"] = ["BETTER_AUTH_SECRET", "FRONTEND_BASEURL", "TRUSTED_ORIGINS"],
        ["ENABLE_TRANSCRIPTION"] = ["GLADIA_API_KEY", "AWS_S3_AUDIO_CHUNKS_BUCKET"],
        ["ENABLE_EMAIL"] = ["RESEND_API_KEY", "RESEND_EMAIL_FROM", "SUPPORT_EMAIL"],
    };

    public bool IsEnabled(string flag) => flag switch
    {
        "ENABLE_STRIPE" => Stripe,
        "ENABLE_SVIX" => Svix,
        "ENABLE_CALENDAR" => Calendar,
        "ENABLE_MULTI_TENANT" => MultiTenant,
        "ENABLE_DASHBOARD" => Dashboard,
        "ENABLE_TRANSCRIPTION" => Transcription,
        "ENABLE_EMAIL" => Email,
        "SELF_HOSTED" => SelfHosted,
        _ => false,
    };

    public void Validate(SettingsValidationContext context)
    {
        foreach (var (flag, required) in RequiredSettings)
        {
            if (!IsEnabled(flag))
            {
                continue;
            }

            foreach (var variable in required)
            {
                if (string.IsNullOrWhiteSpace(context.Raw(variable)))
                {
                    context.Add(variable, context.Raw(variable), $"required when {flag}=true");
                }
            }
        }

        // The dashboard signs users in with Google and/or GitHub: one complete pair is enough.
        if (Dashboard && !HasPair(context, "GOOGLE_ID", "GOOGLE_SECRET") && !HasPair(context, "GITHUB_ID", "GITHUB_SECRET"))
        {
            context.Add("GOOGLE_ID", context.Raw("GOOGLE_ID"), "required when ENABLE_DASHBOARD=true: set GOOGLE_ID and GOOGLE_SECRET, or GITHUB_ID and GITHUB_SECRET");
        }
    }

    private static bool HasPair(SettingsValidationContext context, string id, string secret) =>
        !string.IsNullOrWhiteSpace(context.Raw(id)) && !string.IsNullOrWhiteSpace(context.Raw(secret));
}
