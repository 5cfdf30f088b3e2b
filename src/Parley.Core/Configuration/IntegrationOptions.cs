namespace Parley.Core.Configuration;

// The settings behind each feature flag. They are declared here so that they are bound, documented and
// masked like every other setting; FeatureOptions decides which are required.

/// <summary>Google and GitHub OAuth clients, shared by the dashboard and the calendar integration.</summary>
public sealed class OAuthOptions
{
    public const string SectionName = "OAuth";

    [Setting("GOOGLE_ID", Description = "Google OAuth client id (dashboard sign-in, calendar).")]
    public string? GoogleId { get; set; }

    [Setting("GOOGLE_SECRET", Description = "Google OAuth client secret.", Secret = true)]
    public string? GoogleSecret { get; set; }

    [Setting("GITHUB_ID", Description = "GitHub OAuth client id (dashboard sign-in).")]
    public string? GitHubId { get; set; }

    [Setting("GITHUB_SECRET", Description = "GitHub OAuth client secret.", Secret = true)]
    public string? GitHubSecret { get; set; }
}

public sealed class DashboardOptions
{
    public const string SectionName = "Dashboard";

    [Setting("BETTER_AUTH_SECRET", Description = "Session signing secret of the dashboard (`openssl rand -hex 32`).", Secret = true)]
    public string? BetterAuthSecret { get; set; }

    [Setting("FRONTEND_BASEURL", Description = "Public URL of the dashboard.", Schemes = ["http", "https"])]
    public Uri? FrontendBaseUrl { get; set; }

    [Setting("TRUSTED_ORIGINS", Description = "Comma-separated origins allowed to call the API from a browser.")]
    public string[] TrustedOrigins { get; set; } = [];
}

public sealed class CalendarOptions
{
    public const string SectionName = "Calendar";

    [Setting("CALENDAR_CREDENTIALS_KEY", Description = "32-byte base64 key encrypting stored calendar OAuth tokens.", Secret = true)]
    public string? CredentialsKey { get; set; }
}

public sealed class TranscriptionOptions
{
    public const string SectionName = "Transcription";

    [Setting("GLADIA_API_KEY", Description = "Gladia API key for transcription.", Secret = true)]
    public string? GladiaApiKey { get; set; }

    [Setting("AWS_S3_AUDIO_CHUNKS_BUCKET", Description = "Bucket for audio chunks sent to transcription.")]
    public string? AudioChunksBucket { get; set; }
}

public sealed class EmailOptions
{
    public const string SectionName = "Email";

    [Setting("RESEND_API_KEY", Description = "Resend API key for email notifications.", Secret = true)]
    public string? ResendApiKey { get; set; }

    [Setting("RESEND_EMAIL_FROM", Description = "Sender of notification emails, e.g. `Parley <noreply@example.com>`.")]
    public string? From { get; set; }

    [Setting("SUPPORT_EMAIL", Description = "Support address shown in emails.")]
    public string? SupportEmail { get; set; }
}

public sealed class SvixOptions
{
    public const string SectionName = "Svix";

    [Setting("SVIX_URL", Description = "URL of the Svix server.", Schemes = ["http", "https"])]
    public Uri? Url { get; set; }

    [Setting("SVIX_JWT_SECRET", Description = "Svix API token (JWT).", Secret = true)]
    public string? JwtSecret { get; set; }
}

public sealed class StripeOptions
{
    public const string SectionName = "Stripe";

    [Setting("STRIPE_SECRET_KEY", Description = "Stripe secret key (sk_...).", Secret = true)]
    public string? SecretKey { get; set; }

    [Setting("STRIPE_WEBHOOK_SECRET", Description = "Stripe webhook signing secret (whsec_...).", Secret = true)]
    public string? WebhookSecret { get; set; }

    [Setting("STRIPE_PRO_SUBSCRIPTION_PRODUCT_ID", Description = "Stripe product id of the Pro subscription.")]
    public string? ProSubscriptionProductId { get; set; }

    [Setting("STRIPE_PRO_SUBSCRIPTION_PRICE_ID", Description = "Stripe price id of the Pro subscription.")]
    public string? ProSubscriptionPriceId { get; set; }
}
