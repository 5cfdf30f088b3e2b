using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Parley.Core.Configuration;

namespace Parley.Deploy.Tests;

/// <summary>
/// deploy/docker/Dockerfile cannot be built here (no Docker engine): its structure is checked instead, and
/// its health check command is run against a listener on loopback.
/// </summary>
public sealed partial class DockerfileTests
{
    private const string AppUser = "1654:1654";
    private static readonly Dockerfile File_ = Dockerfile.Parse(File.ReadAllText(Repository.PathOf("deploy", "docker", "Dockerfile")));

    [Fact]
    public void Base_images_are_pinned_to_exact_versions()
    {
        var external = File_.Stages.Where(s => !File_.Stages.Any(o => o.Name == s.From)).ToList();
        Assert.NotEmpty(external);
        foreach (var stage in external)
        {
            var image = File_.Substitute(stage.From);
            Assert.True(PinnedImage().IsMatch(image), $"stage {stage.Name}: base image {image} is not pinned to an x.y.z version or a digest");
        }
    }

    [Theory]
    [InlineData("parley")]
    [InlineData("bot-browser")]
    public void Each_target_runs_as_the_unprivileged_app_user(string target)
    {
        var user = File_.Effective(target, "USER");

        Assert.Equal(AppUser, user);
    }

    [Fact]
    public void The_default_target_is_parley_with_the_parley_entrypoint_and_serve()
    {
        Assert.Equal("parley", File_.Stages[^1].Name);
        Assert.Equal(["parley"], JsonArray(File_.Effective("parley", "ENTRYPOINT")));
        Assert.Equal("serve", ParleyCli.AssertValid([.. JsonArray(File_.Effective("parley", "CMD")), "--roles", "api"], "Dockerfile CMD"));
        Assert.Equal(["parley"], JsonArray(File_.Effective("bot-browser", "ENTRYPOINT")));
        Assert.Equal("bot run", ParleyCli.AssertValid(JsonArray(File_.Effective("bot-browser", "CMD")), "Dockerfile bot-browser CMD"));
        // `parley` is a command on PATH: Kubernetes bot Jobs run `command: [parley]`.
        var env = File_.Instructions("base", "ENV");
        Assert.Contains(env, e => e.Contains("PATH=/app:$PATH", StringComparison.Ordinal));
        Assert.Contains(File_.Instructions("base", "COPY"), c => c == "--from=build /app /app");
        Assert.Contains(env, e => e.Contains("HOST=0.0.0.0", StringComparison.Ordinal));
    }

    [Fact]
    public void The_server_image_checks_liveness_and_the_bot_image_has_no_health_check()
    {
        Assert.Contains("/liveness", File_.Effective("parley", "HEALTHCHECK"), StringComparison.Ordinal);
        Assert.Equal("NONE", File_.Effective("bot-browser", "HEALTHCHECK"));
    }

    [Fact]
    public async Task The_health_check_command_passes_on_200_and_fails_otherwise()
    {
        var healthcheck = File_.Effective("parley", "HEALTHCHECK");
        var command = JsonArray(healthcheck[healthcheck.IndexOf("CMD ", StringComparison.Ordinal)..][4..]);

        Assert.Equal(0, await RunHealthCheckAsync(command, "HTTP/1.1 200 OK"));
        Assert.NotEqual(0, await RunHealthCheckAsync(command, "HTTP/1.1 503 Service Unavailable"));
    }

    [Fact]
    public void Exposes_the_http_port_and_the_default_rtc_range()
    {
        var rtc = new RtcOptions();
        var expose = File_.Instructions("base", "EXPOSE");

        Assert.Contains("3001/tcp", expose);
        Assert.Contains($"{rtc.MinPort}-{rtc.MaxPort}/udp", expose);
        Assert.Contains(File_.Instructions("base", "ENV"), e => e.Contains("PORT=3001", StringComparison.Ordinal));
    }

    [Fact]
    public void Carries_the_oci_labels()
    {
        var labels = string.Join('\n', File_.Instructions("base", "LABEL"));
        foreach (var label in new[] { "title", "description", "source", "version", "revision", "created", "base.name" })
        {
            Assert.Contains($"org.opencontainers.image.{label}=", labels, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Installs_ffmpeg_in_every_image_and_chromium_in_the_bot_image_without_keeping_apt_lists()
    {
        Assert.Contains(File_.Instructions("base", "RUN"), r => InstallsWithoutLists(r, "ffmpeg"));
        Assert.Contains(File_.Instructions("bot-browser", "RUN"), r => InstallsWithoutLists(r, "chromium"));
        Assert.DoesNotContain(File_.Instructions("parley", "RUN"), r => r.Contains("chromium", StringComparison.Ordinal));
    }

    [Fact]
    public void The_restore_layer_copies_every_project_src_parley_references()
    {
        var copies = File_.Instructions("build", "COPY");
        var restoreIndex = copies.FindIndex(c => c.StartsWith("src/ ", StringComparison.Ordinal));
        Assert.True(restoreIndex > 0, "the sources are copied after the project files");
        foreach (var project in ProjectClosure(Repository.PathOf("src", "Parley", "Parley.csproj")))
        {
            var relative = Path.GetRelativePath(Repository.Root, project).Replace('\\', '/');
            var directory = relative[..(relative.LastIndexOf('/') + 1)];
            Assert.True(copies.Take(restoreIndex).Contains($"{relative} {directory}"),
                $"the Dockerfile does not copy {relative} before `dotnet restore`: add `COPY {relative} {directory}`");
        }
    }

    [Fact]
    public void The_dockerignore_keeps_the_context_to_what_the_build_copies()
    {
        var ignore = File.ReadAllLines(Repository.PathOf(".dockerignore")).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();

        Assert.Equal("*", ignore[0]);
        Assert.Contains("**/bin/", ignore);
        Assert.Contains("**/obj/", ignore);
        foreach (var copy in File_.Instructions("build", "COPY").Where(c => !c.StartsWith("--", StringComparison.Ordinal)))
        {
            var sources = copy.Split(' ', StringSplitOptions.RemoveEmptyEntries)[..^1];
            foreach (var source in sources)
            {
                var top = source.Split('/')[0];
                Assert.True(ignore.Contains("!" + top) || ignore.Contains("!" + top + "/"), $".dockerignore leaves {source} out of the build context");
                Assert.True(File.Exists(Repository.PathOf(source)) || Directory.Exists(Repository.PathOf(source)), $"the Dockerfile copies {source}, which does not exist");
            }
        }
    }

    private static bool InstallsWithoutLists(string run, string package) =>
        run.Contains("apt-get install -y --no-install-recommends", StringComparison.Ordinal)
        && Regex.IsMatch(run, $@"\b{package}\b") && run.Contains("rm -rf /var/lib/apt/lists/*", StringComparison.Ordinal);

    private static List<string> JsonArray(string text) => JsonSerializer.Deserialize<List<string>>(text.Trim())!;

    private static IEnumerable<string> ProjectClosure(string project)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([Path.GetFullPath(project)]);
        while (pending.TryPop(out var current))
        {
            if (!seen.Add(current))
            {
                continue;
            }

            foreach (var reference in XDocument.Load(current).Descendants("ProjectReference"))
            {
                pending.Push(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(current)!, reference.Attribute("Include")!.Value.Replace('\\', '/'))));
            }
        }

        return seen;
    }

    /// <summary>Runs the health check's command with PORT pointing at a loopback listener that answers with <paramref name="statusLine"/>.</summary>
    private static async Task<int> RunHealthCheckAsync(List<string> command, string statusLine)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var serve = Task.Run(async () =>
        {
            using var client = await listener.AcceptTcpClientAsync();
            var stream = client.GetStream();
            var buffer = new byte[4096];
            var read = await stream.ReadAsync(buffer);
            var request = Encoding.ASCII.GetString(buffer, 0, read);
            Assert.StartsWith("GET /liveness HTTP/1.1\r\n", request, StringComparison.Ordinal);
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"{statusLine}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
        });

        var info = new ProcessStartInfo(command[0]) { UseShellExecute = false, RedirectStandardError = true };
        foreach (var argument in command.Skip(1))
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["PORT"] = port.ToString(CultureInfo.InvariantCulture);
        using var process = Process.Start(info)!;
        var exited = process.WaitForExit(30_000);
        Assert.True(exited, "the health check command did not finish in 30 s");
        await serve.WaitAsync(TimeSpan.FromSeconds(10));
        return process.ExitCode;
    }

    [GeneratedRegex(@"(:[0-9]+\.[0-9]+(\.[0-9]+)?([-.][A-Za-z0-9.-]+)?(@sha256:[0-9a-f]{64})?|@sha256:[0-9a-f]{64})$")]
    private static partial Regex PinnedImage();
}

/// <summary>
/// Just enough of the Dockerfile grammar for these checks: instructions with their line continuations, stages,
/// ARG defaults, and the USER/ENTRYPOINT/CMD/HEALTHCHECK a target inherits from the stages it is built on.
/// </summary>
internal sealed partial class Dockerfile
{
    private readonly Dictionary<string, string> _globalArgs = new(StringComparer.Ordinal);

    public List<Stage> Stages { get; } = [];

    public static Dockerfile Parse(string text)
    {
        var file = new Dockerfile();
        var logical = new StringBuilder();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (logical.Length == 0 && (line.TrimStart().StartsWith('#') || line.Trim().Length == 0))
            {
                continue;
            }

            if (logical.Length > 0 && line.TrimStart().StartsWith('#'))
            {
                continue; // a comment inside a continued instruction
            }

            if (line.EndsWith('\\'))
            {
                logical.Append(line[..^1]).Append(' ');
                continue;
            }

            logical.Append(line);
            file.Add(logical.ToString().Trim());
            logical.Clear();
        }

        return file;
    }

    private void Add(string instruction)
    {
        var space = instruction.IndexOf(' ', StringComparison.Ordinal);
        var keyword = instruction[..space].ToUpperInvariant();
        var rest = Spaces().Replace(instruction[(space + 1)..].Trim(), " ");
        if (keyword == "FROM")
        {
            var parts = rest.Split(' ').Where(p => !p.StartsWith("--", StringComparison.Ordinal)).ToList();
            Stages.Add(new Stage(parts.Count == 3 ? parts[2] : $"stage{Stages.Count}", parts[0]));
            return;
        }

        if (Stages.Count == 0)
        {
            Assert.Equal("ARG", keyword);
            var eq = rest.IndexOf('=', StringComparison.Ordinal);
            _globalArgs[eq < 0 ? rest : rest[..eq]] = eq < 0 ? "" : rest[(eq + 1)..];
            return;
        }

        Stages[^1].Instructions.Add((keyword, rest));
    }

    public string Substitute(string text) => ArgReference().Replace(text, m => _globalArgs.TryGetValue(m.Groups[1].Value, out var v) ? v : m.Value);

    /// <summary>The instructions of one keyword in a stage itself (not inherited).</summary>
    public List<string> Instructions(string stage, string keyword) =>
        Stages.Single(s => s.Name == stage).Instructions.Where(i => i.Keyword == keyword).Select(i => i.Value).ToList();

    /// <summary>The last value of an instruction that a target has, its own or inherited from its base stages.</summary>
    public string Effective(string target, string keyword)
    {
        for (var stage = Stages.SingleOrDefault(s => s.Name == target); stage is not null; stage = Stages.SingleOrDefault(s => s.Name == stage.From))
        {
            var found = stage.Instructions.LastOrDefault(i => i.Keyword == keyword);
            if (found.Keyword is not null)
            {
                return found.Value;
            }
        }

        throw new Xunit.Sdk.XunitException($"target {target} has no {keyword}");
    }

    [GeneratedRegex(@"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")]
    private static partial Regex ArgReference();

    [GeneratedRegex(@"[ \t]+")]
    private static partial Regex Spaces();

    internal sealed record Stage(string Name, string From)
    {
        public List<(string Keyword, string Value)> Instructions { get; } = [];
    }
}
