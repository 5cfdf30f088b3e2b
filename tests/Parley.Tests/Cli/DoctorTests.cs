using Amazon.Runtime;
using Amazon.S3;
using Amazon.SQS;
using Amazon.SQS.Model;
using Parley.Testing;

namespace Parley.Tests.Cli;

/// <summary>`parley doctor` against this machine, the services of test.sh, and deliberately broken settings.</summary>
public sealed class DoctorTests
{
    private static async Task<(int Code, string Stdout)> DoctorAsync(Dictionary<string, string?> environment)
    {
        using var dir = new TempDirectory();
        environment.TryAdd("PARLEY_DATA_DIR", Path.Combine(dir.Path, "data"));
        environment.TryAdd("PORT", ParleyProcess.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture));
        var (code, stdout, stderr) = await ParleyProcess.RunAsync(["doctor"], environment, dir.Path);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        return (code, stdout);
    }

    [Fact]
    public async Task Embedded_defaults_pass_and_each_check_prints_one_line()
    {
        var (code, stdout) = await DoctorAsync([]);

        Assert.True(code == 0, stdout);
        Assert.Contains("OK   configuration:", stdout, StringComparison.Ordinal);
        Assert.Contains("WARN database: SQLite", stdout, StringComparison.Ordinal); // fresh: serve creates and migrates it
        Assert.Contains("OK   storage: local: writable", stdout, StringComparison.Ordinal);
        Assert.Contains("WARN queue: embedded: not checked", stdout, StringComparison.Ordinal);
        Assert.Contains("OK   listen:", stdout, StringComparison.Ordinal);
        Assert.Matches(@"(OK|WARN) +ffmpeg:", stdout);
        Assert.Contains("No check failed.", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_migrated_embedded_database_and_its_queue_are_ok()
    {
        using var dir = new TempDirectory();
        var data = Path.Combine(dir.Path, "data");
        Assert.Equal(0, (await ParleyProcess.RunAsync(["migrate", "--data-dir", data], new Dictionary<string, string?>(), dir.Path)).ExitCode);

        var (code, stdout) = await DoctorAsync(new() { ["PARLEY_DATA_DIR"] = data });

        Assert.True(code == 0, stdout);
        Assert.Contains("OK   database: SQLite", stdout, StringComparison.Ordinal);
        Assert.Contains("OK   queue: embedded: 0 waiting, 0 in flight, 0 dead-lettered", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unreachable_services_fail_with_advice_and_exit_1()
    {
        var (code, stdout) = await DoctorAsync(new()
        {
            ["DATABASE_URL"] = $"postgres://parley:pw@127.0.0.1:{ParleyProcess.FreePort()}/parley",
            ["PARLEY_DATABASE_TIMEOUT_SECONDS"] = "2",
            ["STATIC_API_KEY"] = "0123456789abcdef0123",
            ["REDIS_URL"] = $"redis://127.0.0.1:{ParleyProcess.FreePort()}",
        });

        Assert.Equal(1, code);
        Assert.Contains("FAIL database: PostgreSQL 127.0.0.1:", stdout, StringComparison.Ordinal);
        Assert.Contains("-> check DATABASE_URL", stdout, StringComparison.Ordinal);
        Assert.Contains("FAIL redis:", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(":pw@", stdout, StringComparison.Ordinal);
        Assert.Contains("check(s) failed.", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_configuration_is_a_failed_check_with_exit_2()
    {
        using var dir = new TempDirectory();
        var (code, stdout, stderr) = await ParleyProcess.RunAsync(["doctor"], new Dictionary<string, string?> { ["PORT"] = "none" }, dir.Path);

        Assert.Equal(2, code);
        Assert.Contains("PORT='none'", stderr, StringComparison.Ordinal);
        Assert.Contains("FAIL configuration", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_scaled_out_services_of_test_sh_pass()
    {
        var endpoint = TestEnvironment.AwsEndpointUrl;
        var credentials = new BasicAWSCredentials("test", "test");
        var bucket = "doctor-" + Guid.NewGuid().ToString("N")[..10];
        using (var s3 = new AmazonS3Client(credentials, new AmazonS3Config { ServiceURL = endpoint, ForcePathStyle = true, AuthenticationRegion = "us-east-1" }))
        {
            await s3.PutBucketAsync(bucket);
        }

        using var sqs = new AmazonSQSClient(credentials, new AmazonSQSConfig { ServiceURL = endpoint, AuthenticationRegion = "us-east-1" });
        var queue = (await sqs.CreateQueueAsync(new CreateQueueRequest { QueueName = bucket })).QueueUrl;
        var database = await PostgresDatabase.CreateAsync();
        using (var dir = new TempDirectory())
        {
            Assert.Equal(0, (await ParleyProcess.RunAsync(["migrate"], new Dictionary<string, string?> { ["DATABASE_URL"] = database, ["STATIC_API_KEY"] = "0123456789abcdef0123" }, dir.Path)).ExitCode);
        }

        var (code, stdout) = await DoctorAsync(new()
        {
            ["DATABASE_URL"] = database,
            ["STATIC_API_KEY"] = "0123456789abcdef0123",
            ["REDIS_URL"] = TestEnvironment.RedisUrl,
            ["AWS_ENDPOINT_URL"] = endpoint,
            ["AWS_ACCESS_KEY_ID"] = "test",
            ["AWS_SECRET_ACCESS_KEY"] = "test",
            ["AWS_S3_ARTIFACTS_BUCKET"] = bucket,
            ["PARLEY_S3_FORCE_PATH_STYLE"] = "true",
            ["SQS_QUEUE_URL_ZOOM"] = queue,
            ["SQS_QUEUE_URL_MEET_TEAMS"] = queue,
        });

        Assert.True(code == 0, stdout);
        Assert.Contains("OK   database: PostgreSQL", stdout, StringComparison.Ordinal);
        Assert.Contains("OK   redis:", stdout, StringComparison.Ordinal);
        Assert.Contains("OK   storage: s3: writable", stdout, StringComparison.Ordinal);
        Assert.Contains("OK   queue: sqs:", stdout, StringComparison.Ordinal);
    }
}
