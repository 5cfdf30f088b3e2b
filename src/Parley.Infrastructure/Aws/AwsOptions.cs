using System.Text.RegularExpressions;
using Parley.Core.Configuration;

namespace Parley.Infrastructure.Aws;

/// <summary>
/// The AWS account every adapter shares (S3 now, SQS and ECS by default): the names are the AWS CLI's and
/// the Meeting BaaS guide's, so an existing environment keeps working. Declared once here; other areas that
/// talk to AWS read this class instead of declaring the variables again.
/// </summary>
public sealed partial class AwsOptions : ISettingsValidation
{
    public const string SectionName = "Aws";

    [Setting("AWS_REGION", Description = "AWS region of S3, SQS and ECS.")]
    public string Region { get; set; } = "us-east-1";

    [Setting("AWS_ENDPOINT_URL", Description = "Endpoint of an S3-compatible server (MinIO, moto, R2...). Unset: AWS itself.", Schemes = ["http", "https"])]
    public Uri? EndpointUrl { get; set; }

    [Setting("AWS_ACCESS_KEY_ID", Description = "Access key id. Unset: the SDK's default credential chain (instance role, profile, web identity).", Secret = true)]
    public string? AccessKeyId { get; set; }

    [Setting("AWS_SECRET_ACCESS_KEY", Description = "Secret access key paired with AWS_ACCESS_KEY_ID.", Secret = true)]
    public string? SecretAccessKey { get; set; }

    public void Validate(SettingsValidationContext context)
    {
        // With a custom endpoint the region only names the signing scope, and S3-compatible servers have
        // their own ("auto" for R2, "garage"); AWS itself needs a real region name.
        var customEndpoint = EndpointUrl is not null || !string.IsNullOrWhiteSpace(context.Raw("AWS_ENDPOINT_URL_SQS"));
        if (customEndpoint ? !SigningRegionPattern().IsMatch(Region) : !RegionPattern().IsMatch(Region))
        {
            context.Add("AWS_REGION", Region, customEndpoint
                ? "expected a region name: lowercase letters, digits and '-'"
                : "expected a region name such as us-east-1 or eu-west-3");
        }

        AwsCredentialPair.Validate(context, "AWS_ACCESS_KEY_ID", AccessKeyId, "AWS_SECRET_ACCESS_KEY", SecretAccessKey);
    }

    [GeneratedRegex("^[a-z]{2}(-[a-z]+)+-[0-9]+$")]
    private static partial Regex RegionPattern();

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,49}$")]
    private static partial Regex SigningRegionPattern();
}

/// <summary>An access key id without its secret (or the reverse) is a typo, not a request for the default chain.</summary>
internal static class AwsCredentialPair
{
    public static void Validate(SettingsValidationContext context, string idName, string? id, string secretName, string? secret)
    {
        if (id is not null && secret is null)
        {
            context.Add(secretName, null, $"required when {idName} is set (or unset both to use the default credential chain)", secret: true);
        }
        else if (id is null && secret is not null)
        {
            context.Add(idName, null, $"required when {secretName} is set (or unset both to use the default credential chain)", secret: true);
        }
    }
}
