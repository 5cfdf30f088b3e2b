using Parley.Infrastructure.Aws;
using Parley.Testing;

namespace Parley.Infrastructure.Tests;

/// <summary>The moto_server test.sh starts: any credentials are accepted; every test makes its own buckets and queues.</summary>
internal static class Moto
{
    public static AwsOptions Aws => new()
    {
        Region = "us-east-1",
        EndpointUrl = new Uri(TestEnvironment.AwsEndpointUrl),
        AccessKeyId = "test",
        SecretAccessKey = "test",
    };

    /// <summary>A name no other test (or earlier run against the same server) uses.</summary>
    public static string UniqueName(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 63)];
}
