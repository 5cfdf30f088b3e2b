using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Amazon.Runtime;
using k8s;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Parley.Core.Configuration;
using Parley.Core.Queues;
using Parley.Core.Storage;
using Parley.Data;
using Parley.Infrastructure;
using Parley.Infrastructure.Aws;
using Parley.Infrastructure.Locks;
using Parley.Orchestration;
using Parley.Orchestration.Platforms.Coolify;
using Parley.Orchestration.Platforms.Ecs;
using Parley.Orchestration.Platforms.Kubernetes;
using Parley.Sfu;

namespace Parley.Hosting;

public enum CheckLevel
{
    Ok,
    Warn,
    Fail,
}

/// <summary>One line of `parley doctor`: what was checked, how it went, and what to do about it.</summary>
public sealed record DoctorCheck(string Name, CheckLevel Level, string Detail, string? Advice = null)
{
    public override string ToString() =>
        $"{Level.ToString().ToUpperInvariant(),-4} {Name}: {Detail}{(Advice is null ? "" : $" -> {Advice}")}";
}

/// <summary>
/// The checks of `parley doctor`, each against the real dependency the configuration names: the
/// troubleshooting steps of the Meeting BaaS and Meeboter guides, run in one go. A check never throws; a
/// dependency that is not configured is reported as such, not as a failure.
/// </summary>
public sealed partial class Doctor(IServiceProvider services, SettingsBindResult settings, DatabaseTarget database)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public async Task<IReadOnlyList<DoctorCheck>> RunAsync(CancellationToken cancellationToken)
    {
        List<DoctorCheck> checks = [new("configuration", CheckLevel.Ok, $"{SettingsBinder.Describe(SettingsLoader.OptionTypes).Count} settings valid")];
        var databaseCheck = await DatabaseAsync(cancellationToken);
        checks.Add(databaseCheck);
        checks.Add(await RedisAsync(cancellationToken));
        checks.Add(await StorageAsync(cancellationToken));
        checks.Add(await QueueAsync(databaseCheck.Level == CheckLevel.Ok, cancellationToken));
        checks.Add(Tool("ffmpeg", "ffmpeg", "-version", "install ffmpeg (Debian: apt-get install ffmpeg); recordings are post-processed with it"));
        checks.Add(Tool("chromium", "/usr/bin/chromium", "--version", "install chromium (Debian: apt-get install chromium); browser bots need it"));
        checks.Add(Listen());
        var server = settings.Get<ServerOptions>();
        if (server.Roles.Contains("sfu"))
        {
            checks.Add(RtcPorts());
            checks.Add(AnnouncedIp());
        }
        else if (server.Roles.Contains("api"))
        {
            checks.Add(await SfuNodesAsync(databaseCheck.Level == CheckLevel.Ok, cancellationToken));
        }

        if (settings.Get<RtcOptions>().TurnServerUrls.Length > 0)
        {
            checks.Add(await TurnAsync(cancellationToken));
        }

        var orchestrator = settings.Get<OrchestratorOptions>();
        if (orchestrator.Chain.Contains(KubernetesPlatform.PlatformName) && orchestrator.KubernetesBotLimit is not null)
        {
            checks.Add(await KubernetesAsync(cancellationToken));
        }

        if (EcsOptions.IsSelected(orchestrator))
        {
            checks.Add(await EcsAsync(cancellationToken));
        }

        if (CoolifyOptions.IsSelected(orchestrator))
        {
            checks.Add(await CoolifyAsync(cancellationToken));
        }

        return checks;
    }

    private async Task<DoctorCheck> DatabaseAsync(CancellationToken cancellationToken)
    {
        var migrator = services.GetRequiredService<DatabaseMigrator>();
        if (database.IsEmbedded && !File.Exists(new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(database.ConnectionString).DataSource))
        {
            return new("database", CheckLevel.Warn, $"{database.Description}: not created yet", "`parley serve` (or `parley migrate`) creates and migrates it");
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Timeout);
            if (!await migrator.CanConnectAsync(timeout.Token))
            {
                return new("database", CheckLevel.Fail, $"{database.Description}: cannot connect", "check DATABASE_URL, that the server runs and accepts this host, and the credentials");
            }

            var pending = await migrator.GetPendingMigrationsAsync(timeout.Token);
            return pending.Count == 0
                ? new("database", CheckLevel.Ok, $"{database.Description}: reachable, migrated")
                : new("database", database.IsEmbedded ? CheckLevel.Warn : CheckLevel.Fail, $"{database.Description}: {pending.Count} migration(s) pending",
                    database.IsEmbedded ? "`parley serve` applies them at start" : "run `parley migrate`");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return new("database", CheckLevel.Fail, $"{database.Description}: {ex.GetBaseException().Message}", "check DATABASE_URL and that the server is reachable");
        }
    }

    private async Task<DoctorCheck> RedisAsync(CancellationToken cancellationToken)
    {
        if (settings.Get<RedisOptions>().Url is null)
        {
            return new("redis", CheckLevel.Ok, "not configured: locks in the database (fine for one replica or PostgreSQL advisory locks)");
        }

        var result = await new RedisHealthCheck(services.GetRequiredService<RedisConnection>()).CheckHealthAsync(new HealthCheckContext(), cancellationToken);
        return result.Status == HealthStatus.Healthy
            ? new("redis", CheckLevel.Ok, result.Description ?? "reachable")
            : new("redis", CheckLevel.Fail, FirstSentence(result.Description ?? "unreachable"), "check REDIS_URL (host, port, password, rediss:// for TLS)");
    }

    /// <summary>Writes, reads back and deletes a probe object: "bucket exists" is not enough, uploads must work.</summary>
    private async Task<DoctorCheck> StorageAsync(CancellationToken cancellationToken)
    {
        var store = services.GetRequiredService<IArtifactStore>();
        var key = $"doctor/probe-{Guid.NewGuid():N}.txt";
        try
        {
            using var content = new MemoryStream("parley doctor"u8.ToArray());
            await store.PutAsync(StorageBucket.Artifacts, key, content, "text/plain", cancellationToken);
            var found = await store.ExistsAsync(StorageBucket.Artifacts, key, cancellationToken);
            await store.DeletePrefixAsync(StorageBucket.Artifacts, key, cancellationToken);
            return found
                ? new("storage", CheckLevel.Ok, $"{store.Kind}: writable")
                : new("storage", CheckLevel.Fail, $"{store.Kind}: a written object cannot be found", "check the bucket's consistency settings and permissions");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return new("storage", CheckLevel.Fail, $"{store.Kind}: {ex.GetBaseException().Message}",
                store.Kind == "s3" ? "check AWS_S3_ARTIFACTS_BUCKET exists, AWS_ENDPOINT_URL, credentials, and PARLEY_S3_FORCE_PATH_STYLE for S3-compatible servers" : "check PARLEY_DATA_DIR is writable");
        }
    }

    private async Task<DoctorCheck> QueueAsync(bool databaseReady, CancellationToken cancellationToken)
    {
        var queue = services.GetRequiredService<IBotJobQueue>();
        if (queue.Kind == "embedded" && !databaseReady)
        {
            return new("queue", CheckLevel.Warn, "embedded: not checked, it lives in the database", "see the database line");
        }

        try
        {
            var depth = await queue.GetDepthAsync(cancellationToken);
            var level = depth.DeadLettered > 0 ? CheckLevel.Warn : CheckLevel.Ok;
            return new("queue", level, $"{queue.Kind}: {depth.Visible} waiting, {depth.InFlight} in flight, {depth.DeadLettered} dead-lettered",
                depth.DeadLettered > 0 ? "dead-lettered jobs were received QUEUE_MAX_RECEIVES times without finishing: look at the orchestrator and bot logs" : null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return new("queue", CheckLevel.Fail, $"{queue.Kind}: {FirstSentence(ex.GetBaseException().Message)}",
                queue.Kind == "sqs" ? "check the SQS_QUEUE_URL_* settings, AWS_ENDPOINT_URL_SQS and the SQS credentials" : "the embedded queue lives in the database: see the database line");
        }
    }

    /// <summary>Client libraries write paragraphs; one line per check is the contract.</summary>
    private static string FirstSentence(string text)
    {
        var end = text.IndexOfAny(['\n', '.']);
        var sentence = end > 0 ? text[..end] : text;
        return sentence.Length > 160 ? sentence[..160] + "…" : sentence;
    }

    private static DoctorCheck Tool(string name, string command, string argument, string advice)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(command, argument) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false });
            if (process is null)
            {
                return new(name, CheckLevel.Warn, "not found", advice);
            }

            var first = process.StandardOutput.ReadLine() ?? "";
            process.WaitForExit(5000);
            return new(name, CheckLevel.Ok, first.Length > 80 ? first[..80] : first);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return new(name, CheckLevel.Warn, "not found", advice);
        }
    }

    /// <summary>HOST:PORT must be free for `serve` (or taken by a running Parley).</summary>
    private DoctorCheck Listen()
    {
        var server = settings.Get<ServerOptions>();
        try
        {
            var address = server.Host is "localhost" ? System.Net.IPAddress.Loopback
                : server.Host is "*" ? System.Net.IPAddress.Any : System.Net.IPAddress.Parse(server.Host);
            using var listener = new System.Net.Sockets.TcpListener(address, server.Port);
            listener.Start();
            return new("listen", CheckLevel.Ok, $"{server.Host}:{server.Port} is free");
        }
        catch (System.Net.Sockets.SocketException ex)
        {
            return new("listen", CheckLevel.Warn, $"{server.Host}:{server.Port} is in use ({ex.SocketErrorCode})", "fine if Parley already runs there; otherwise set PORT");
        }
    }

    /// <summary>
    /// The SFU binds one UDP port per worker in RTC_MIN_PORT..RTC_MAX_PORT and skips ports in use, so the range
    /// must hold at least as many free ports as workers. Each port is bound once and released.
    /// </summary>
    private DoctorCheck RtcPorts()
    {
        var rtc = settings.Get<RtcOptions>();
        var listen = rtc.EffectiveListenAddress(settings.Get<ServerOptions>().Host);
        var workers = rtc.Workers > 0 ? rtc.Workers : Environment.ProcessorCount;
        var free = 0;
        for (var port = rtc.MinPort; port <= rtc.MaxPort; port++)
        {
            try
            {
                using var socket = new Socket(listen.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
                socket.Bind(new IPEndPoint(listen, port));
                free++;
            }
            catch (SocketException)
            {
                // In use (or not bindable here): the SFU skips it too.
            }
        }

        var detail = $"UDP {rtc.MinPort}-{rtc.MaxPort} on {listen}: {free} free, {workers} worker(s) need {workers}";
        return free >= workers
            ? new("rtc-ports", CheckLevel.Ok, detail)
            : new("rtc-ports", CheckLevel.Warn, detail,
                "fine if Parley's sfu already runs here; otherwise free the ports or widen RTC_MIN_PORT..RTC_MAX_PORT (and open the range for UDP in the firewall)");
    }

    /// <summary>The address put in ICE candidates, resolved as the SFU does, and whether browsers can plausibly reach it.</summary>
    private DoctorCheck AnnouncedIp()
    {
        var rtc = settings.Get<RtcOptions>();
        var server = settings.Get<ServerOptions>();
        var listen = rtc.EffectiveListenAddress(server.Host);
        var announced = rtc.AnnouncedIp is { } configured ? IPAddress.Parse(configured) : AnnouncedAddressResolver.Default(listen);
        var source = rtc.AnnouncedIp is null ? "resolved" : "ANNOUNCED_IP";
        if (AnnouncedAddressResolver.Warning(announced, listen) is { } warning)
        {
            return new("announced-ip", CheckLevel.Warn, $"{announced} ({source}), listening on {listen}: {warning}",
                "set ANNOUNCED_IP to the address browsers reach this host at (its public or LAN IP, the node's address on Kubernetes)");
        }

        var publicUrl = server.EffectiveBaseUrl;
        if (IsPublicHost(publicUrl.Host) && !IsPublic(announced) && rtc.TurnServerUrls.Length == 0)
        {
            return new("announced-ip", CheckLevel.Warn, $"{announced} ({source}) is a private address, but {publicUrl.Host} is public: browsers outside this network cannot send media to it",
                "set ANNOUNCED_IP to the public address, or give clients a TURN server that reaches this one (TURN_SERVER_URL)");
        }

        return new("announced-ip", CheckLevel.Ok, $"{announced} ({source}), listening on {listen}");
    }

    private static bool IsPublicHost(string host) =>
        !host.Equals("localhost", StringComparison.OrdinalIgnoreCase) && (!IPAddress.TryParse(host, out var address) || IsPublic(address));

    /// <summary>Not loopback, link-local, RFC 1918, CGNAT (100.64/10) or IPv6 unique-local.</summary>
    private static bool IsPublic(IPAddress address)
    {
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.IsIPv6LinkLocal || address.IsIPv6UniqueLocal)
        {
            return false;
        }

        if (address.AddressFamily != AddressFamily.InterNetwork)
        {
            return true;
        }

        var b = address.GetAddressBytes();
        return !(b[0] == 10 || (b[0] == 172 && b[1] is >= 16 and <= 31) || (b[0] == 192 && b[1] == 168)
            || (b[0] == 169 && b[1] == 254) || (b[0] == 100 && b[1] is >= 64 and <= 127));
    }

    /// <summary>
    /// Each TURN URL once: a STUN Binding request over UDP (every TURN server answers one), a TCP connect for
    /// transport=tcp and turns:. A WARN, not a FAIL: clients may reach a TURN server this host cannot.
    /// </summary>
    private async Task<DoctorCheck> TurnAsync(CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        var urls = settings.Get<RtcOptions>().TurnServerUrls;
        foreach (var url in urls)
        {
            try
            {
                var (host, port, tcp) = ParseTurnUrl(url);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(3));
                if (tcp)
                {
                    using var client = new TcpClient();
                    await client.ConnectAsync(host, port, timeout.Token);
                }
                else
                {
                    await StunBindingAsync(host, port, timeout.Token);
                }
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException or FormatException && !cancellationToken.IsCancellationRequested)
            {
                problems.Add($"{url}: {(ex is OperationCanceledException ? "no answer in 3 s" : ex.Message)}");
            }
        }

        return problems.Count == 0
            ? new("turn", CheckLevel.Ok, $"{urls.Length} URL(s) answer")
            : new("turn", CheckLevel.Warn, string.Join("; ", problems),
                "check TURN_SERVER_URL and that the TURN server runs and its ports are open (3478 UDP/TCP, 443 or 5349 for turns:)");
    }

    private static (string Host, int Port, bool Tcp) ParseTurnUrl(string url)
    {
        var secure = url.StartsWith("turns:", StringComparison.OrdinalIgnoreCase);
        var rest = url[(url.IndexOf(':', StringComparison.Ordinal) + 1)..];
        var query = rest.IndexOf('?', StringComparison.Ordinal);
        var tcp = secure || (query >= 0 && rest[query..].Contains("transport=tcp", StringComparison.OrdinalIgnoreCase));
        var authority = query >= 0 ? rest[..query] : rest;
        var colon = authority.LastIndexOf(':');
        return colon > 0 && !authority.EndsWith(']')
            ? (authority[..colon].Trim('[', ']'), int.Parse(authority[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture), tcp)
            : (authority.Trim('[', ']'), secure ? 5349 : 3478, tcp);
    }

    /// <summary>RFC 8489 §5: a 20-byte Binding request; any STUN answer with our transaction id will do.</summary>
    private static async Task StunBindingAsync(string host, int port, CancellationToken cancellationToken)
    {
        var addresses = await Dns.GetHostAddressesAsync(host, cancellationToken);
        var target = new IPEndPoint(addresses.First(), port);
        using var socket = new Socket(target.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        var request = new byte[20];
        request[1] = 0x01; // type 0x0001 Binding request, length 0
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(request.AsSpan(4), 0x2112A442);
        System.Security.Cryptography.RandomNumberGenerator.Fill(request.AsSpan(8, 12));
        await socket.SendToAsync(request, target, cancellationToken);
        var buffer = new byte[1500];
        while (true)
        {
            var received = await socket.ReceiveFromAsync(buffer, new IPEndPoint(target.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0), cancellationToken);
            if (received.ReceivedBytes >= 20 && (buffer[0] & 0xC0) == 0 && buffer.AsSpan(8, 12).SequenceEqual(request.AsSpan(8, 12)))
            {
                return;
            }
        }
    }

    /// <summary>What KubernetesPlatform needs, asked of the API server itself (SelfSubjectAccessReview).</summary>
    private async Task<DoctorCheck> KubernetesAsync(CancellationToken cancellationToken)
    {
        var options = settings.Get<KubernetesOptions>();
        (string Verb, string Group, string Resource)[] needed =
        [
            ("create", "batch", "jobs"), ("list", "batch", "jobs"), ("delete", "batch", "jobs"), ("list", "", "pods"),
            // The per-bot Secret holding BOT_TOKEN and secret storage settings: created before the Job (replaced
            // when a retry finds one), patched to be owned by it, listed and deleted by reconciliation. Without
            // these every deployment fails at its first step.
            ("create", "", "secrets"), ("update", "", "secrets"), ("patch", "", "secrets"), ("list", "", "secrets"), ("delete", "", "secrets"),
        ];
        try
        {
            var configuration = options.KubeConfig is { Length: > 0 } path ? KubernetesClientConfiguration.BuildConfigFromConfigFile(path)
                : KubernetesClientConfiguration.IsInCluster() ? KubernetesClientConfiguration.InClusterConfig()
                : throw new InvalidOperationException("K8S_KUBECONFIG is unset and this process does not run in a Kubernetes pod");
            using var client = new Kubernetes(configuration);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Timeout);
            var denied = new List<string>();
            foreach (var (verb, group, resource) in needed)
            {
                var review = await client.AuthorizationV1.CreateSelfSubjectAccessReviewAsync(new V1SelfSubjectAccessReview
                {
                    Spec = new V1SelfSubjectAccessReviewSpec
                    {
                        ResourceAttributes = new V1ResourceAttributes { NamespaceProperty = options.Namespace, Verb = verb, Group = group, Resource = resource },
                    },
                }, cancellationToken: timeout.Token);
                if (review.Status?.Allowed != true)
                {
                    denied.Add($"{verb} {resource}");
                }
            }

            return denied.Count == 0
                ? new("kubernetes", CheckLevel.Ok, $"{configuration.Host}: may create, list and delete jobs, list pods and create, update, patch, list and delete secrets in {options.Namespace}")
                : new("kubernetes", CheckLevel.Fail, $"{configuration.Host}: not allowed to {string.Join(", ", denied)} in {options.Namespace}",
                    $"bind the orchestrator's service account to a Role in {options.Namespace} granting them (deploy/k8s/base/orchestrator.yaml)");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return new("kubernetes", CheckLevel.Fail, FirstSentence(ex.GetBaseException().Message),
                "check K8S_KUBECONFIG (or run the orchestrator in a pod with a service account) and that the API server is reachable");
        }
    }

    /// <summary>The cluster is ACTIVE and every configured task definition exists (Meeboter's "tasks fail to start").</summary>
    private async Task<DoctorCheck> EcsAsync(CancellationToken cancellationToken)
    {
        var ecs = settings.Get<EcsOptions>();
        var aws = settings.Get<AwsOptions>();
        AWSCredentials? credentials = aws.AccessKeyId is not null && aws.SecretAccessKey is not null ? new BasicAWSCredentials(aws.AccessKeyId, aws.SecretAccessKey) : null;
        try
        {
            using var client = new EcsClient(aws.Region, ecs.EndpointUrl ?? aws.EndpointUrl, credentials);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Timeout);
            var answer = await client.SendAsync("DescribeClusters", new JsonObject { ["clusters"] = new JsonArray(ecs.Cluster) }, timeout.Token);
            var status = (string?)answer["clusters"]?.AsArray().FirstOrDefault()?["status"];
            if (status != "ACTIVE")
            {
                return new("ecs", CheckLevel.Fail, $"cluster {ecs.Cluster} in {aws.Region}: {status ?? "not found"}", "check AWS_ECS_CLUSTER and AWS_REGION (create the cluster, e.g. with Meeboter's terraform)");
            }

            var missing = new List<string>();
            foreach (var definition in ecs.TaskDefinitions)
            {
                try
                {
                    await client.SendAsync("DescribeTaskDefinition", new JsonObject { ["taskDefinition"] = definition }, timeout.Token);
                }
                catch (EcsException)
                {
                    missing.Add(definition);
                }
            }

            return missing.Count == 0
                ? new("ecs", CheckLevel.Ok, $"cluster {ecs.Cluster} ACTIVE, {ecs.TaskDefinitions.Count()} task definition(s) found")
                : new("ecs", CheckLevel.Fail, $"cluster {ecs.Cluster} ACTIVE; task definition(s) not found: {string.Join(", ", missing)}", "register them or fix AWS_ECS_TASK_DEF_*");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return new("ecs", CheckLevel.Fail, $"cluster {ecs.Cluster}: {FirstSentence(ex.GetBaseException().Message)}",
                "check AWS_REGION, the credentials (ecs:DescribeClusters, ecs:RunTask...) and AWS_ENDPOINT_URL_ECS");
        }
    }

    /// <summary>The Coolify API answers with this token (Meeboter's "verify Coolify API token permissions").</summary>
    private async Task<DoctorCheck> CoolifyAsync(CancellationToken cancellationToken)
    {
        var options = settings.Get<CoolifyOptions>();
        try
        {
            using var client = new CoolifyApiClient(options);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Timeout);
            var slots = await client.ListSlotsAsync(timeout.Token);
            return new("coolify", CheckLevel.Ok, $"{options.ApiUrl}: reachable, {slots.Count} slot(s), {slots.Count(s => s.Record.State == SlotState.Error)} in ERROR");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var unauthorized = ex is HttpRequestException { StatusCode: HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden };
            return new("coolify", CheckLevel.Fail, $"{options.ApiUrl}: {FirstSentence(ex.GetBaseException().Message)}",
                unauthorized ? "COOLIFY_API_TOKEN is refused: create a token with read and write permission" : "check COOLIFY_API_URL (with /api/v1) and that Coolify is reachable");
        }
    }
}
