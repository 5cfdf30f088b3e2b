using Microsoft.Extensions.DependencyInjection;
using Parley.Core.Configuration;
using Parley.Core.Locks;
using Parley.Core.Queues;
using Parley.Core.Storage;
using Parley.Infrastructure.Aws;
using Parley.Infrastructure.Locks;
using Parley.Infrastructure.Queues;
using Parley.Infrastructure.Storage;
using Parley.Testing;

namespace Parley.Infrastructure.Tests;

/// <summary>The settings of this project, bound and validated the way `parley serve` does, and what they register.</summary>
public sealed class InfrastructureSettingsTests
{
    private static readonly Type[] Types =
        [typeof(ServerOptions), typeof(RedisOptions), typeof(AwsOptions), typeof(StorageOptions), typeof(QueueOptions), typeof(LockOptions)];

    [Fact]
    public void With_nothing_set_storage_is_local_the_queue_embedded_and_the_lock_in_memory()
    {
        var settings = Bind([]);

        Assert.True(settings.IsValid, string.Join("; ", settings.Problems));
        Assert.False(settings.Get<StorageOptions>().IsS3Configured);
        Assert.False(settings.Get<QueueOptions>().IsSqsConfigured);
        Assert.Equal(5, settings.Get<QueueOptions>().MaxReceives);
        Assert.Equal("us-east-1", settings.Get<AwsOptions>().Region);
    }

    [Fact]
    public void A_logs_bucket_without_an_artifacts_bucket_is_a_problem()
    {
        var problem = Assert.Single(Bind([("AWS_S3_LOGS_BUCKET", "parley-logs")]).Problems);

        Assert.Equal("AWS_S3_ARTIFACTS_BUCKET", problem.Variable);
        Assert.Contains("AWS_S3_LOGS_BUCKET", problem.Expected, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("AWS_S3_ARTIFACTS_BUCKET", "Bad_Bucket")]
    [InlineData("AWS_REGION", "mars")]
    [InlineData("QUEUE_MAX_RECEIVES", "0")]
    [InlineData("SQS_QUEUE_URL_ZOOM", "not a url")]
    [InlineData("PARLEY_S3_FORCE_PATH_STYLE", "yes")]
    [InlineData("REDIS_URL", "redis://host/abc")]
    public void A_bad_value_is_one_problem_line_naming_its_variable(string variable, string value)
    {
        var problems = Bind([(variable, value), ("SQS_QUEUE_URL_MEET_TEAMS", null)]).Problems;

        Assert.Contains(problems, p => p.Variable == variable);
    }

    [Fact]
    public void A_custom_endpoint_accepts_the_region_names_of_s3_compatible_servers()
    {
        Assert.True(Bind([("AWS_REGION", "auto"), ("AWS_ENDPOINT_URL", "https://account.r2.example.com")]).IsValid);
        Assert.Equal("AWS_REGION", Assert.Single(Bind([("AWS_REGION", "auto")]).Problems).Variable);
    }

    [Fact]
    public void A_short_signing_key_is_refused_and_masked()
    {
        var problem = Assert.Single(Bind([("PARLEY_ARTIFACT_SIGNING_KEY", "too-short-secret")]).Problems);

        Assert.Equal("PARLEY_ARTIFACT_SIGNING_KEY", problem.Variable);
        Assert.DoesNotContain("too-short-secret", problem.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void One_sqs_queue_needs_the_others_and_a_dead_letter_queue_needs_sqs()
    {
        var problems = Bind([("SQS_QUEUE_URL_PARLEY", "http://127.0.0.1:5055/123456789012/parley")]).Problems;
        Assert.Equal(["SQS_QUEUE_URL_MEET_TEAMS", "SQS_QUEUE_URL_ZOOM"], problems.Select(p => p.Variable).Order());

        var alone = Assert.Single(Bind([("SQS_QUEUE_URL_DEAD_LETTER", "http://127.0.0.1:5055/123456789012/dlq")]).Problems);
        Assert.Equal("SQS_QUEUE_URL_DEAD_LETTER", alone.Variable);
    }

    [Fact]
    public void An_access_key_without_its_secret_is_a_problem()
    {
        Assert.Equal("AWS_SECRET_ACCESS_KEY", Assert.Single(Bind([("AWS_ACCESS_KEY_ID", "AKIA0000")]).Problems).Variable);
        Assert.Equal("AWS_ACCESS_KEY_ID_SQS", Assert.Single(Bind([("AWS_SECRET_ACCESS_KEY_SQS", "s")]).Problems).Variable);
    }

    [Fact]
    public async Task Embedded_settings_register_local_storage_and_the_in_memory_lock_but_no_queue()
    {
        using var data = new TempDirectory();
        await using var provider = Provider(Bind([("PARLEY_DATA_DIR", data.Path)]));

        Assert.IsType<LocalArtifactStore>(provider.GetRequiredService<IArtifactStore>());
        Assert.IsType<InMemoryDistributedLock>(provider.GetRequiredService<IDistributedLock>());
        Assert.Null(provider.GetService<IBotJobQueue>());
        Assert.True(File.Exists(Path.Combine(data.Path, ArtifactSigningKey.FileName)));
    }

    [Fact]
    public async Task Scaled_out_settings_register_s3_sqs_and_redis()
    {
        await using var provider = Provider(Bind([
            ("AWS_S3_ARTIFACTS_BUCKET", "parley-artifacts"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
            ("SQS_QUEUE_URL_ZOOM", "http://127.0.0.1:9/123456789012/zoom"),
            ("SQS_QUEUE_URL_MEET_TEAMS", "http://127.0.0.1:9/123456789012/meet-teams"),
            ("REDIS_URL", "redis://127.0.0.1:9"),
        ]));

        Assert.IsType<S3ArtifactStore>(provider.GetRequiredService<IArtifactStore>());
        Assert.IsType<SqsBotJobQueue>(provider.GetRequiredService<IBotJobQueue>());
        Assert.IsType<RedisDistributedLock>(provider.GetRequiredService<IDistributedLock>());
    }

    private static ServiceProvider Provider(SettingsBindResult settings)
    {
        Assert.True(settings.IsValid, string.Join("; ", settings.Problems));
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddParleyInfrastructure(settings);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
    }

    private static SettingsBindResult Bind((string Name, string? Value)[] values)
    {
        var map = values.ToDictionary(v => v.Name, v => v.Value);
        return SettingsBinder.Bind(Types, name => map.GetValueOrDefault(name));
    }
}
