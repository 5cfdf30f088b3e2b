using Parley.Core.Configuration;

namespace Parley.Core.Tests.Configuration;

public sealed class FeatureOptionsTests
{
    private static IReadOnlyList<ConfigProblem> Problems(params (string Key, string? Value)[] values)
    {
        var map = values.ToDictionary(v => v.Key, v => v.Value, StringComparer.OrdinalIgnoreCase);
        return SettingsBinder.Bind(
            [typeof(ServerOptions), typeof(FeatureOptions), typeof(AuthOptions), typeof(OAuthOptions), typeof(DashboardOptions),
             typeof(CalendarOptions), typeof(TranscriptionOptions), typeof(EmailOptions), typeof(SvixOptions), typeof(StripeOptions)],
            name => map.TryGetValue(name, out var v) ? v : null).Problems;
    }

    [Theory]
    [InlineData("ENABLE_STRIPE", "STRIPE_SECRET_KEY,STRIPE_WEBHOOK_SECRET,STRIPE_PRO_SUBSCRIPTION_PRODUCT_ID,STRIPE_PRO_SUBSCRIPTION_PRICE_ID")]
    [InlineData("ENABLE_SVIX", "SVIX_URL,SVIX_JWT_SECRET")]
    [InlineData("ENABLE_CALENDAR", "CALENDAR_CREDENTIALS_KEY,GOOGLE_ID,GOOGLE_SECRET,API_SERVER_BASEURL")]
    [InlineData("ENABLE_TRANSCRIPTION", "GLADIA_API_KEY,AWS_S3_AUDIO_CHUNKS_BUCKET")]
    [InlineData("ENABLE_EMAIL", "RESEND_API_KEY,RESEND_EMAIL_FROM,SUPPORT_EMAIL")]
    [InlineData("ENABLE_DASHBOARD", "BETTER_AUTH_SECRET,FRONTEND_BASEURL,TRUSTED_ORIGINS,GOOGLE_ID")]
    public void A_flag_on_without_its_settings_names_each_missing_one(string flag, string required)
    {
        var problems = Problems((flag, "true"));

        Assert.Equal(required.Split(','), problems.Select(p => p.Variable));
        Assert.All(problems, p => Assert.Contains($"required when {flag}=true", p.Expected, StringComparison.Ordinal));
    }

    [Fact]
    public void A_flag_on_with_its_settings_is_accepted()
    {
        var problems = Problems(("ENABLE_SVIX", "1"), ("SVIX_URL", "http://svix.services.svc.cluster.local:8071"), ("SVIX_JWT_SECRET", "jwt"));

        Assert.Empty(problems);
    }

    [Fact]
    public void The_dashboard_accepts_a_github_pair_instead_of_google()
    {
        var problems = Problems(
            ("ENABLE_DASHBOARD", "true"), ("BETTER_AUTH_SECRET", "s"), ("FRONTEND_BASEURL", "https://dash.example.com"),
            ("TRUSTED_ORIGINS", "https://example.com"), ("GITHUB_ID", "id"), ("GITHUB_SECRET", "secret"));

        Assert.Empty(problems);
    }

    [Fact]
    public void A_flag_that_is_off_needs_nothing()
    {
        Assert.Empty(Problems(("ENABLE_STRIPE", "false"), ("ENABLE_EMAIL", "0")));
    }

    [Fact]
    public void Single_tenant_with_a_shared_database_needs_a_static_key()
    {
        var problem = Assert.Single(Problems(("DATABASE_URL", "postgres://u:p@db/parley")));

        Assert.Equal("STATIC_API_KEY", problem.Variable);
        Assert.Contains("DATABASE_URL", problem.Expected, StringComparison.Ordinal);
        Assert.Empty(Problems(("DATABASE_URL", "postgres://u:p@db/parley"), ("ENABLE_MULTI_TENANT", "true")));
        Assert.Empty(Problems(("DATABASE_URL", "postgres://u:p@db/parley"), ("STATIC_API_KEY", "0123456789abcdef0123")));
    }
}
