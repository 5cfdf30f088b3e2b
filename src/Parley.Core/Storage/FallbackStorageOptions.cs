using Parley.Core.Configuration;

namespace Parley.Core.Storage;

/// <summary>
/// The fallback storage of Meeting BaaS's self-hosting guide ("EFS/NFS, redundant storage", bots → EFS "backup
/// storage"): a directory where a bot leaves the recording it could not upload, and from which the jobs role's
/// fallback-upload-job uploads it later. Bots and the jobs role must see the same directory: on one machine the
/// data directory is shared already; scaled out it is an EFS/NFS volume mounted at the same path in bot pods and
/// in the jobs replicas (or the fallback-upload-job CronJob).
/// </summary>
public sealed class FallbackStorageOptions : ISettingsValidation
{
    public const string SectionName = "FallbackStorage";

    /// <summary>The sub-directory of PARLEY_DATA_DIR used when PARLEY_FALLBACK_STORAGE_DIR is not set.</summary>
    public const string DefaultDirectoryName = "fallback";

    [Setting("PARLEY_FALLBACK_STORAGE_DIR", Description = "Directory where a bot keeps a recording it could not upload (storage down past the retry budget), uploaded later by fallback-upload-job. Shared between bots and the jobs role (EFS/NFS when scaled out). Unset: PARLEY_DATA_DIR/fallback.")]
    public string? Directory { get; set; }

    [Setting("PARLEY_FALLBACK_UPLOAD_INTERVAL_SECONDS", Description = "How often the jobs role's fallback-upload-job looks for recordings left in PARLEY_FALLBACK_STORAGE_DIR.", Min = 5, Max = 86400)]
    public int UploadIntervalSeconds { get; set; } = 60;

    [Setting("PARLEY_FALLBACK_CLAIM_TIMEOUT_SECONDS", Description = "How long an upload claimed by one fallback-upload-job run may take before another run takes it over (the first one crashed).", Min = 60, Max = 86400)]
    public int ClaimTimeoutSeconds { get; set; } = 3600;

    /// <summary>The directory to use: the configured one, or PARLEY_DATA_DIR/fallback; absolute.</summary>
    public string ResolveDirectory(string dataDirectory) =>
        Path.GetFullPath(string.IsNullOrWhiteSpace(Directory) ? Path.Combine(dataDirectory, DefaultDirectoryName) : Directory);

    public void Validate(SettingsValidationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (string.IsNullOrWhiteSpace(Directory))
        {
            return;
        }

        // A file where the directory should be would only be found when storage is already down, which is the
        // worst moment to learn it: refuse to start instead.
        if (File.Exists(Directory))
        {
            context.Add("PARLEY_FALLBACK_STORAGE_DIR", Directory, "expected a directory (or a path where one can be created), not a file");
        }
        else if (Directory.IndexOfAny(Path.GetInvalidPathChars()) >= 0)
        {
            context.Add("PARLEY_FALLBACK_STORAGE_DIR", Directory, "expected a directory path");
        }
    }
}
