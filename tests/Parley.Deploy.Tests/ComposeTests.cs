using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace Parley.Deploy.Tests;

/// <summary>
/// deploy/compose cannot run here (no Docker engine), so its wiring is read: Parley services run Parley's
/// image with real commands and documented settings, and every ${VARIABLE} has a line in .env.example.
/// </summary>
public sealed partial class ComposeTests
{
    private static readonly string ComposeText = File.ReadAllText(Repository.PathOf("deploy", "compose", "compose.yaml"));
    private static readonly string EnvExample = File.ReadAllText(Repository.PathOf("deploy", "compose", ".env.example"));

    /// <summary>compose.yaml with its anchors and merge keys (`<<: *parley-image`) resolved, as Compose reads it.</summary>
    private static readonly Dictionary<object, object> Compose = new DeserializerBuilder().Build()
        .Deserialize<Dictionary<object, object>>(new MergingParser(new Parser(new StringReader(ComposeText))));

    private static Dictionary<object, object> Services => Yaml.Map(Compose, "services");

    private static IEnumerable<(string Name, Dictionary<object, object> Service)> ParleyServices() =>
        Services.Select(kv => ((string)kv.Key, (Dictionary<object, object>)kv.Value))
            .Where(s => Yaml.Str(s.Item2, "image").StartsWith("ghcr.io/parley/", StringComparison.Ordinal));

    [Fact]
    public void Has_the_services_the_issue_lists()
    {
        Assert.Superset(new HashSet<object> { "postgres", "redis", "minio", "coturn", "migrate", "parley", "sfu" }, Services.Keys.ToHashSet());
    }

    [Fact]
    public void Parley_services_run_parley_commands_and_build_the_image_from_the_dockerfile()
    {
        var commands = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, service) in ParleyServices())
        {
            Assert.Matches(@"^ghcr\.io/parley/parley:\$\{IMAGE_TAG:-[0-9]+\.[0-9]+\.[0-9]+\}$", Yaml.Str(service, "image"));
            var build = Yaml.Map(service, "build");
            Assert.Equal("deploy/docker/Dockerfile", Yaml.Str(build, "dockerfile"));
            Assert.Equal("parley", Yaml.Str(build, "target"));
            Assert.True(File.Exists(Path.Combine(Repository.PathOf("deploy", "compose"), Yaml.Str(build, "context"), Yaml.Str(build, "dockerfile"))));
            var args = Yaml.List(service, "command").Cast<string>().ToList();
            commands[name] = ParleyCli.AssertValid(args, "compose service " + name) + " " + string.Join(' ', args.Skip(1));
        }

        Assert.Equal("migrate ", commands["migrate"]);
        Assert.Equal("serve --roles api,jobs,orchestrator", commands["parley"]);
        Assert.Equal("serve --roles sfu", commands["sfu"]);
    }

    [Fact]
    public void Parley_services_get_only_documented_settings()
    {
        foreach (var (name, service) in ParleyServices())
        {
            foreach (var key in Yaml.Map(service, "environment").Keys.Cast<string>())
            {
                Assert.True(Repository.DocumentedSettings.Contains(key), $"compose service {name}: {key} is not a setting in docs/configuration.md");
            }

            Assert.False(service.ContainsKey("env_file"), $"compose service {name}: env_file would pass variables nobody checked");
        }
    }

    [Fact]
    public void Every_variable_compose_uses_is_in_env_example()
    {
        var listed = EnvLine().Matches(EnvExample).Select(m => m.Groups["name"].Value).ToHashSet(StringComparer.Ordinal);
        var used = Interpolation().Matches(FullLineComment().Replace(ComposeText, "")).Select(m => m.Groups["name"].Value).ToHashSet(StringComparer.Ordinal);

        Assert.NotEmpty(used);
        foreach (var name in used)
        {
            Assert.True(listed.Contains(name), $"compose.yaml uses ${{{name}}}, which .env.example does not list");
        }

        foreach (var name in listed)
        {
            Assert.True(used.Contains(name), $".env.example lists {name}, which compose.yaml does not use");
        }
    }

    [Fact]
    public void Env_example_holds_no_secret_and_compose_refuses_to_start_without_them()
    {
        foreach (var secret in new[] { "STATIC_API_KEY", "JWT_SECRET", "TURN_SECRET", "POSTGRES_PASSWORD", "MINIO_ROOT_PASSWORD" })
        {
            Assert.Matches(new Regex($"^{secret}=$", RegexOptions.Multiline), EnvExample);
            Assert.Contains("${" + secret + ":?", ComposeText, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_sfu_publishes_its_udp_range_and_announces_a_configured_address()
    {
        var sfu = Yaml.Map(Services, "sfu");
        var environment = Yaml.Map(sfu, "environment");

        Assert.Contains("${RTC_MIN_PORT:-10000}-${RTC_MAX_PORT:-10100}:${RTC_MIN_PORT:-10000}-${RTC_MAX_PORT:-10100}/udp", Yaml.List(sfu, "ports").Cast<string>());
        Assert.Equal("${RTC_MIN_PORT:-10000}", environment["RTC_MIN_PORT"]);
        Assert.Equal("${RTC_MAX_PORT:-10100}", environment["RTC_MAX_PORT"]);
        Assert.StartsWith("${ANNOUNCED_IP", (string)environment["ANNOUNCED_IP"], StringComparison.Ordinal);
        Assert.Equal("0.0.0.0", environment["HOST"]);
    }

    [Fact]
    public void Servers_start_after_the_migration_and_the_migration_after_postgres()
    {
        foreach (var name in new[] { "parley", "sfu" })
        {
            var dependsOn = Yaml.Map(Yaml.Map(Services, name), "depends_on");
            Assert.Equal("service_completed_successfully", Yaml.Str(Yaml.Map(dependsOn, "migrate"), "condition"));
        }

        var migrate = Yaml.Map(Services, "migrate");
        Assert.Equal("service_healthy", Yaml.Str(Yaml.Map(Yaml.Map(migrate, "depends_on"), "postgres"), "condition"));
        Assert.Equal("no", Yaml.Str(migrate, "restart"));
        Assert.Equal("true", Yaml.Map(migrate, "healthcheck")["disable"].ToString());
    }

    [Fact]
    public void The_gateway_sends_everything_to_the_api_which_relays_signaling_to_the_sfu()
    {
        var caddyfile = Yaml.Str(Yaml.Map(Yaml.Map(Compose, "configs"), "caddyfile"), "content");

        Assert.Contains("reverse_proxy parley:3001", caddyfile, StringComparison.Ordinal);
        Assert.DoesNotContain("sfu:3001", caddyfile, StringComparison.Ordinal);
        // The api runs without the sfu role (so /rtc/ws is its relay) and reaches the node at its registered URL.
        Assert.DoesNotContain("sfu", Yaml.List(Yaml.Map(Services, "parley"), "command").Cast<string>().Last().Split(','));
        var sfu = Yaml.Map(Services, "sfu");
        Assert.Equal("http://sfu:3001", Yaml.Map(sfu, "environment")["PARLEY_SFU_INTERNAL_URL"]);
        Assert.Equal("3001", Yaml.Map(sfu, "environment")["PORT"]);
    }

    [Fact]
    public void Other_images_are_pinned()
    {
        foreach (var (name, value) in Services)
        {
            var image = Yaml.Str((Dictionary<object, object>)value, "image");
            var tag = image[(image.LastIndexOf(':') + 1)..];
            Assert.True(image.Contains(':', StringComparison.Ordinal) && tag is not "latest" && tag.Any(char.IsDigit), $"compose service {name}: image {image} is not pinned to a version");
        }
    }

    [GeneratedRegex(@"^\s*#.*$", RegexOptions.Multiline)]
    private static partial Regex FullLineComment();

    [GeneratedRegex(@"^(?<name>[A-Z][A-Z0-9_]*)=", RegexOptions.Multiline)]
    private static partial Regex EnvLine();

    // ${NAME}, ${NAME:-default}, ${NAME:?message}; $$ is an escaped dollar for the container's shell.
    [GeneratedRegex(@"(?<!\$)\$\{(?<name>[A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex Interpolation();
}
