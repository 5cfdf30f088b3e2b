using Amazon;
using Amazon.Runtime;

namespace Parley.Infrastructure.Aws;

/// <summary>What the S3 and SQS clients share: credentials, region and endpoint handling.</summary>
internal static class AwsClientSettings
{
    /// <summary>Explicit keys when configured; null lets the SDK walk its default chain (roles, profiles, web identity).</summary>
    public static AWSCredentials? Credentials(string? accessKeyId, string? secretAccessKey) =>
        accessKeyId is not null && secretAccessKey is not null ? new BasicAWSCredentials(accessKeyId, secretAccessKey) : null;

    /// <summary>
    /// A custom endpoint replaces the regional one, and then the region only names the signing scope;
    /// without one, the region picks AWS's endpoint.
    /// </summary>
    public static void Apply(ClientConfig config, string region, Uri? endpoint)
    {
        if (endpoint is not null)
        {
            config.ServiceURL = endpoint.AbsoluteUri;
            config.AuthenticationRegion = region;
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
        }
    }
}
