using System.Text.RegularExpressions;
using Parley.Core.Configuration;

namespace Parley.Infrastructure.Storage;

/// <summary>
/// Where artifacts and bot logs go: S3 when <c>AWS_S3_ARTIFACTS_BUCKET</c> is set (Meeting BaaS names),
/// else the data directory. The AWS account itself is <see cref="Aws.AwsOptions"/>.
/// </summary>
public sealed partial class StorageOptions : ISettingsValidation
{
    public const string SectionName = "Storage";

    /// <summary>Generated keys are 32 random bytes; a configured one must not be weaker.</summary>
    public const int MinimumSigningKeyLength = 32;

    [Setting("AWS_S3_ARTIFACTS_BUCKET", Description = "S3 bucket for recordings and their derivatives. Unset: local files under PARLEY_DATA_DIR/artifacts.")]
    public string? ArtifactsBucket { get; set; }

    [Setting("AWS_S3_LOGS_BUCKET", Description = "S3 bucket for bot logs. Unset: the artifacts bucket, under the prefix logs/.")]
    public string? LogsBucket { get; set; }

    [Setting("PARLEY_S3_FORCE_PATH_STYLE", Description = "Address buckets as https://host/bucket instead of https://bucket.host (MinIO, moto and most S3-compatible servers need it).")]
    public bool ForcePathStyle { get; set; }

    [Setting("PARLEY_ARTIFACT_SIGNING_KEY", Description = "HMAC key signing local download links. Unset: generated once and saved in PARLEY_DATA_DIR/artifact-signing-key.", Secret = true)]
    public string? SigningKey { get; set; }

    /// <summary>True when artifacts live in S3 rather than on local disk.</summary>
    public bool IsS3Configured => ArtifactsBucket is not null;

    public void Validate(SettingsValidationContext context)
    {
        CheckBucket(context, "AWS_S3_ARTIFACTS_BUCKET", ArtifactsBucket);
        CheckBucket(context, "AWS_S3_LOGS_BUCKET", LogsBucket);
        if (LogsBucket is not null && ArtifactsBucket is null)
        {
            // Half of the storage on S3 and half on a replica's disk would lose logs on the next rollout.
            context.Add("AWS_S3_ARTIFACTS_BUCKET", null, "required when AWS_S3_LOGS_BUCKET is set (logs and artifacts are stored together: both in S3 or both on local disk)");
        }

        if (SigningKey is { } key && key.Length < MinimumSigningKeyLength)
        {
            context.Add("PARLEY_ARTIFACT_SIGNING_KEY", key, $"expected at least {MinimumSigningKeyLength} characters (generate one with `openssl rand -hex 32`)", secret: true);
        }
    }

    private static void CheckBucket(SettingsValidationContext context, string variable, string? bucket)
    {
        // The S3 naming rules (3-63 characters, lowercase letters, digits, dots and hyphens, starting and
        // ending with a letter or digit); an S3-compatible server may be laxer, AWS is not.
        if (bucket is not null && !BucketPattern().IsMatch(bucket))
        {
            context.Add(variable, bucket, "expected a bucket name: 3 to 63 lowercase letters, digits, '.' or '-', starting and ending with a letter or digit");
        }
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]
    private static partial Regex BucketPattern();
}
