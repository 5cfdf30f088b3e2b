using System.Globalization;
using k8s;
using k8s.Models;

namespace Parley.Deploy.Tests;

/// <summary>
/// deploy/k8s rendered with `kubectl kustomize`, every overlay and every component, checked for the wiring a
/// cluster would only reveal at run time: images and commands, probes, settings, RBAC, selectors.
/// </summary>
public sealed class KubernetesManifestTests
{
    private const string BotsNamespace = "parley-bots";
    private const long AppUid = 1654;

    public static TheoryData<string> Targets() =>
    [
        "base",
        "overlays/single-node",
        "overlays/production",
        "base+components/cronjobs",
        "overlays/production+components/cronjobs",
    ];

    private static readonly HashSet<string> KnownKinds =
    [
        "Namespace", "ServiceAccount", "ConfigMap", "Secret", "Service", "Deployment", "Job", "CronJob",
        "HorizontalPodAutoscaler", "PodDisruptionBudget", "Ingress", "NetworkPolicy", "Role", "RoleBinding",
        "ResourceQuota", "ScaledJob", "TriggerAuthentication", "ServiceMonitor",
    ];

    [Theory]
    [MemberData(nameof(Targets))]
    public void Renders_into_typed_models_of_known_kinds_in_the_two_namespaces(string target)
    {
        var m = Kustomize.Render(target);

        foreach (var item in m.All)
        {
            var (kind, name, ns) = Identify(item);
            Assert.True(KnownKinds.Contains(kind), $"{target}: unexpected kind {kind} ({name})");
            if (kind != "Namespace")
            {
                Assert.True(ns is "parley" or BotsNamespace, $"{target}: {kind} {name} is in namespace '{ns}', expected parley or {BotsNamespace}");
            }
        }

        Assert.Equal(["parley", BotsNamespace], m.OfType<V1Namespace>().Select(n => n.Metadata.Name).Order());
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Every_container_runs_a_parley_image_and_a_parley_command(string target)
    {
        var m = Kustomize.Render(target);
        var tags = new HashSet<string>(StringComparer.Ordinal);
        foreach (var w in m.Workloads())
        {
            foreach (var c in Containers(w))
            {
                var where = $"{target}: {w.Name}, container {c.Name}";
                var match = System.Text.RegularExpressions.Regex.Match(c.Image ?? "", @"^ghcr\.io/parley/(?<repo>parley|parley-bot-browser):(?<tag>[0-9]+\.[0-9]+\.[0-9]+[-.A-Za-z0-9]*)$");
                Assert.True(match.Success, $"{where}: image '{c.Image}' is not ghcr.io/parley/parley or parley-bot-browser with a version tag");
                tags.Add(match.Groups["tag"].Value);
                Assert.True(c.Command is null || c.Command.SequenceEqual(["parley"]), $"{where}: command [{string.Join(", ", c.Command ?? [])}] is not the image's `parley` entrypoint");
                var command = ParleyCli.AssertValid(c.Args?.ToList() ?? [], where);
                if (match.Groups["repo"].Value == "parley-bot-browser")
                {
                    Assert.True(command == "bot run", $"{where}: the browser image is for bots, it runs `{command}`");
                }
            }
        }

        // Meeting BaaS's rule: api, jobs and bots come from one commit. Pushed bots use K8S_IMAGE_TAG.
        Assert.True(tags.Count == 1, $"{target}: images use several tags: {string.Join(", ", tags)}");
        var config = m.ConfigMap("parley-config", "parley").Data;
        if (config.TryGetValue("K8S_IMAGE_TAG", out var botTag))
        {
            Assert.Equal(tags.Single(), botTag);
        }
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Servers_probe_liveness_and_ready_on_their_http_port_and_one_shot_pods_have_no_probes(string target)
    {
        var m = Kustomize.Render(target);
        foreach (var w in m.Workloads())
        {
            foreach (var c in Containers(w))
            {
                var where = $"{target}: {w.Name}, container {c.Name}";
                if (!w.Name.StartsWith("Deployment ", StringComparison.Ordinal))
                {
                    // migrate, job run and bot run serve no HTTP: a probe would kill them.
                    Assert.True(c.LivenessProbe is null && c.ReadinessProbe is null && c.StartupProbe is null, $"{where}: a one-shot command has a probe");
                    continue;
                }

                var port = int.Parse(Environment(m, w, c)["PORT"], CultureInfo.InvariantCulture);
                Assert.True(c.Ports?.Any(p => p.ContainerPort == port && p.Protocol is null or "TCP") == true, $"{where}: PORT={port} is not a container port");
                AssertProbe(c.LivenessProbe, "/liveness", port, c, where + " liveness");
                AssertProbe(c.ReadinessProbe, "/ready", port, c, where + " readiness");
                if (c.StartupProbe is not null)
                {
                    AssertProbe(c.StartupProbe, "/liveness", port, c, where + " startup");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Every_variable_a_container_gets_is_a_documented_setting(string target)
    {
        var m = Kustomize.Render(target);
        foreach (var w in m.Workloads())
        {
            foreach (var c in Containers(w))
            {
                var where = $"{target}: {w.Name}, container {c.Name}";
                var environment = Environment(m, w, c);
                foreach (var name in environment.Keys)
                {
                    // A helper only interpolated into another variable ($(POD_IP) in PARLEY_SFU_INTERNAL_URL) is no setting.
                    var helper = environment.Values.Any(v => v.Contains($"$({name})", StringComparison.Ordinal));
                    Assert.True(helper || Repository.DocumentedSettings.Contains(name), $"{where}: {name} is not a setting in docs/configuration.md");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void The_secret_is_a_template_without_real_secrets(string target)
    {
        var m = Kustomize.Render(target);
        foreach (var secret in m.OfType<V1Secret>())
        {
            Assert.Null(secret.Data);
            foreach (var (key, value) in secret.StringData)
            {
                Assert.True(value.Contains("REPLACE_ME", StringComparison.Ordinal), $"{target}: Secret {secret.Metadata.Name} holds a value for {key}; templates hold placeholders only");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Rbac_allows_only_jobs_pods_and_write_only_bot_secrets_in_the_bots_namespace_to_the_orchestrator(string target)
    {
        var m = Kustomize.Render(target);
        var config = m.ConfigMap("parley-config", "parley").Data;
        Assert.Equal(BotsNamespace, config["K8S_NAMESPACE"]);
        string[] allowedVerbs = ["create", "get", "list", "watch", "delete"];
        // Per-bot Secrets (BOT_TOKEN, storage credentials): written and owned by the Job, never read back, so
        // a compromised orchestrator cannot read other bots' credentials through the API (no get, no watch).
        string[] secretVerbs = ["create", "update", "patch", "list", "delete"];
        foreach (var role in m.OfType<V1Role>())
        {
            Assert.Equal(BotsNamespace, role.Metadata.NamespaceProperty);
            foreach (var rule in role.Rules)
            {
                Assert.Subset(new HashSet<string> { "batch", "" }, rule.ApiGroups.ToHashSet());
                Assert.Null(rule.ResourceNames);
                if (rule.Resources.Contains("secrets"))
                {
                    Assert.Equal(["secrets"], rule.Resources);
                    Assert.True(rule.Verbs.All(secretVerbs.Contains), $"{target}: Role {role.Metadata.Name} grants {string.Join(", ", rule.Verbs)} on secrets; allowed: {string.Join(", ", secretVerbs)}");
                    continue;
                }

                Assert.Subset(new HashSet<string> { "jobs", "pods" }, rule.Resources.ToHashSet());
                Assert.True(rule.Verbs.All(allowedVerbs.Contains), $"{target}: Role {role.Metadata.Name} grants {string.Join(", ", rule.Verbs)}; allowed: {string.Join(", ", allowedVerbs)}");
            }
        }

        var orchestrator = m.OfType<V1Deployment>().SingleOrDefault(d => d.Metadata.Name == "parley-orchestrator");
        foreach (var binding in m.OfType<V1RoleBinding>())
        {
            Assert.Contains(m.OfType<V1Role>(), r => r.Metadata.Name == binding.RoleRef.Name && r.Metadata.NamespaceProperty == binding.Metadata.NamespaceProperty);
            var subject = Assert.Single(binding.Subjects);
            Assert.Equal("ServiceAccount", subject.Kind);
            Assert.Equal(orchestrator?.Spec.Template.Spec.ServiceAccountName, subject.Name);
            Assert.Equal("parley", subject.NamespaceProperty);
        }

        if (orchestrator is not null)
        {
            // Push mode: the orchestrator can do what KubernetesPlatform does, and runs with k8s first.
            Assert.Contains("k8s", config["PLATFORM_PRIORITY"].Split(','));
            var rules = m.OfType<V1Role>().SelectMany(r => r.Rules).ToList();
            foreach (var verb in new[] { "create", "list", "delete" })
            {
                Assert.Contains(rules, r => r.Resources.Contains("jobs") && r.ApiGroups.Contains("batch") && r.Verbs.Contains(verb));
            }

            Assert.Contains(rules, r => r.Resources.Contains("pods") && r.Verbs.Contains("list"));
            foreach (var verb in new[] { "create", "patch", "delete" })
            {
                Assert.Contains(rules, r => r.Resources.Contains("secrets") && r.Verbs.Contains(verb)); // the per-bot Secret
            }
            Assert.Contains(m.OfType<V1ServiceAccount>(), s => s.Metadata.Name == orchestrator.Spec.Template.Spec.ServiceAccountName);
        }

        // No other pod gets a Kubernetes API token.
        foreach (var w in m.Workloads().Where(w => w.Name != "Deployment parley-orchestrator"))
        {
            Assert.True(w.Pod.AutomountServiceAccountToken == false, $"{target}: {w.Name} mounts a service account token it does not need");
        }
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Selectors_match_the_pod_templates_they_are_meant_for(string target)
    {
        var m = Kustomize.Render(target);
        var workloads = m.Workloads().ToList();
        bool Selects(IDictionary<string, string>? selector, string ns) =>
            workloads.Any(w => w.Namespace == ns && Matches(selector, w.Template.Metadata.Labels));

        foreach (var w in workloads.Where(w => w.Selector is not null))
        {
            Assert.True(w.Selector!.MatchExpressions is null && Matches(w.Selector.MatchLabels, w.Template.Metadata.Labels), $"{target}: {w.Name}'s selector does not match its pod template");
        }

        foreach (var service in m.OfType<V1Service>())
        {
            Assert.True(Selects(service.Spec.Selector, service.Metadata.NamespaceProperty), $"{target}: Service {service.Metadata.Name} selects no pod template");
            foreach (var port in service.Spec.Ports)
            {
                var target_ = port.TargetPort.Value;
                var pods = workloads.Where(w => w.Namespace == service.Metadata.NamespaceProperty && Matches(service.Spec.Selector, w.Template.Metadata.Labels));
                Assert.True(pods.All(w => Containers(w).Any(c => c.Ports?.Any(p => p.Name == target_ || p.ContainerPort.ToString(CultureInfo.InvariantCulture) == target_) == true)),
                    $"{target}: Service {service.Metadata.Name} targets port '{target_}', which a selected pod does not declare");
            }
        }

        foreach (var pdb in m.OfType<V1PodDisruptionBudget>())
        {
            Assert.True(Selects(pdb.Spec.Selector.MatchLabels, pdb.Metadata.NamespaceProperty), $"{target}: PodDisruptionBudget {pdb.Metadata.Name} selects nothing");
        }

        foreach (var hpa in m.OfType<V2HorizontalPodAutoscaler>())
        {
            Assert.Contains(m.OfType<V1Deployment>(), d => d.Metadata.Name == hpa.Spec.ScaleTargetRef.Name && hpa.Spec.ScaleTargetRef.Kind == "Deployment");
            Assert.Contains(hpa.Spec.Metrics, metric => metric.Resource?.Name == "cpu" && metric.Resource.Target.AverageUtilization is > 0 and <= 100);
            Assert.True(hpa.Spec.MinReplicas <= hpa.Spec.MaxReplicas, $"{target}: HPA {hpa.Metadata.Name} has min > max");
        }

        foreach (var policy in m.OfType<V1NetworkPolicy>())
        {
            var selector = policy.Spec.PodSelector.MatchLabels;
            Assert.True(selector is null || selector.Count == 0 || Selects(selector, policy.Metadata.NamespaceProperty),
                $"{target}: NetworkPolicy {policy.Metadata.Name} selects no pod template");
        }

        foreach (var ingress in m.OfType<V1Ingress>())
        {
            foreach (var path in ingress.Spec.Rules.SelectMany(r => r.Http.Paths))
            {
                var service = m.OfType<V1Service>().SingleOrDefault(s => s.Metadata.Name == path.Backend.Service.Name && s.Metadata.NamespaceProperty == ingress.Metadata.NamespaceProperty);
                Assert.True(service is not null, $"{target}: Ingress path {path.Path} goes to a Service that does not exist: {path.Backend.Service.Name}");
                Assert.Contains(service.Spec.Ports, p => p.Name == path.Backend.Service.Port.Name);
            }
        }

        foreach (var monitor in m.Custom("ServiceMonitor"))
        {
            var spec = Yaml.Map(monitor, "spec");
            var labels = Yaml.Map(Yaml.Map(spec, "selector"), "matchLabels").ToDictionary(kv => (string)kv.Key, kv => (string)kv.Value);
            var services = m.OfType<V1Service>().Where(s => Matches(labels, s.Metadata.Labels)).ToList();
            Assert.True(services.Count > 0, $"{target}: the ServiceMonitor selects no Service");
            foreach (Dictionary<object, object> endpoint in Yaml.List(spec, "endpoints"))
            {
                Assert.Equal("/metrics", Yaml.Str(endpoint, "path"));
                Assert.All(services, s => Assert.Contains(s.Spec.Ports, p => p.Name == Yaml.Str(endpoint, "port")));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void The_migration_job_runs_parley_migrate_and_can_be_applied_first(string target)
    {
        var m = Kustomize.Render(target);
        var job = Assert.Single(m.OfType<V1Job>(), j => j.Metadata.Name == "parley-migrate");
        var container = Assert.Single(job.Spec.Template.Spec.Containers);

        Assert.Equal(["migrate"], container.Args);
        Assert.Equal("Never", job.Spec.Template.Spec.RestartPolicy);
        Assert.Equal(3, job.Spec.BackoffLimit);
        Assert.Equal("PreSync", job.Metadata.Annotations["argocd.argoproj.io/hook"]);
        // `kubectl apply -k DIR -l parley.dev/stage=setup` must bring everything the Job needs.
        Assert.Equal("setup", job.Metadata.Labels["parley.dev/stage"]);
        Assert.All(m.OfType<V1Namespace>(), n => Assert.Equal("setup", n.Metadata.Labels["parley.dev/stage"]));
        foreach (var source in container.EnvFrom)
        {
            var labels = source.ConfigMapRef is { } cm ? m.ConfigMap(cm.Name, "parley").Metadata.Labels : m.Secret(source.SecretRef.Name, "parley").Metadata.Labels;
            Assert.Equal("setup", labels["parley.dev/stage"]);
        }

        Assert.Contains(m.OfType<V1NetworkPolicy>(), p => p.Metadata.Labels is { } labels && labels.TryGetValue("parley.dev/stage", out var stage) && stage == "setup"
            && Matches(p.Spec.PodSelector.MatchLabels, job.Spec.Template.Metadata.Labels) && p.Spec.Egress.Any(e => e.Ports.Any(port => port.Port.Value == "5432")));
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void The_sfu_uses_the_host_network_announces_the_node_address_and_registers_its_pod_address(string target)
    {
        var m = Kustomize.Render(target);
        var sfu = Assert.Single(m.OfType<V1Deployment>(), d => d.Metadata.Name == "parley-sfu");
        var pod = sfu.Spec.Template.Spec;
        var container = Assert.Single(pod.Containers);

        Assert.True(pod.HostNetwork);
        Assert.Equal("ClusterFirstWithHostNet", pod.DnsPolicy);
        Assert.Equal(["serve", "--roles", "sfu"], container.Args);
        var announced = Assert.Single(container.Env, e => e.Name == "ANNOUNCED_IP");
        Assert.Equal("status.hostIP", announced.ValueFrom.FieldRef.FieldPath);
        var term = Assert.Single(pod.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution);
        Assert.Equal("kubernetes.io/hostname", term.TopologyKey);
        Assert.True(Matches(term.LabelSelector.MatchLabels, sfu.Spec.Template.Metadata.Labels));
        Assert.Equal("0", sfu.Spec.Strategy.RollingUpdate.MaxSurge.Value);
        Assert.Contains(m.OfType<V2HorizontalPodAutoscaler>(), h => h.Spec.ScaleTargetRef.Name == "parley-sfu");
        // Guaranteed QoS: whole CPUs, requests equal to limits.
        Assert.Equal(container.Resources.Requests["cpu"], container.Resources.Limits["cpu"]);
        Assert.Equal(container.Resources.Requests["memory"], container.Resources.Limits["memory"]);

        // The api relays signaling to http://<pod IP>:3001, the address the node writes into the registry.
        var podIp = Assert.Single(container.Env, e => e.Name == "POD_IP");
        Assert.Equal("status.podIP", podIp.ValueFrom.FieldRef.FieldPath);
        var internalUrl = Assert.Single(container.Env, e => e.Name == "PARLEY_SFU_INTERNAL_URL");
        var port = Assert.Single(container.Ports, p => p.Name == "http").ContainerPort;
        Assert.Equal($"http://$(POD_IP):{port}", internalUrl.Value);
        Assert.True(container.Env.ToList().FindIndex(e => e.Name == "POD_IP") < container.Env.ToList().FindIndex(e => e.Name == "PARLEY_SFU_INTERNAL_URL"),
            $"{target}: POD_IP must come before PARLEY_SFU_INTERNAL_URL, or $(POD_IP) is not expanded");

        // More than one replica: meetings are placed per node, so scaling out no longer splits them.
        var hpa = Assert.Single(m.OfType<V2HorizontalPodAutoscaler>(), h => h.Spec.ScaleTargetRef.Name == "parley-sfu");
        Assert.True(hpa.Spec.MaxReplicas > 1, $"{target}: the SFU HPA is capped at {hpa.Spec.MaxReplicas} replica(s)");
        // No Service load-balances signaling over SFU pods: a connection must reach the node its meeting is on.
        Assert.DoesNotContain(m.OfType<V1Service>(), s => s.Spec.ClusterIP != "None" && s.Spec.Selector is { } selector && Matches(selector, sfu.Spec.Template.Metadata.Labels));
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Signaling_goes_to_the_api_which_may_reach_the_sfu_nodes(string target)
    {
        var m = Kustomize.Render(target);
        var api = Assert.Single(m.OfType<V1Deployment>(), d => d.Metadata.Name == "parley-api");
        var sfu = Assert.Single(m.OfType<V1Deployment>(), d => d.Metadata.Name == "parley-sfu");

        var ws = Assert.Single(m.OfType<V1Ingress>().SelectMany(i => i.Spec.Rules).SelectMany(r => r.Http.Paths), p => p.Path == "/rtc/ws");
        var service = m.OfType<V1Service>().Single(s => s.Metadata.Name == ws.Backend.Service.Name);
        Assert.True(Matches(service.Spec.Selector, api.Spec.Template.Metadata.Labels), $"{target}: /rtc/ws does not reach the api");
        Assert.False(Matches(service.Spec.Selector, sfu.Spec.Template.Metadata.Labels), $"{target}: /rtc/ws reaches the sfu directly");
        // The api runs without the sfu role, so its /rtc/ws is the relay.
        Assert.DoesNotContain("sfu", api.Spec.Template.Spec.Containers.Single().Args.Last().Split(','));

        // The api's egress allows TCP 3001 to any address (SFU pods use hostNetwork: node addresses).
        var policies = m.OfType<V1NetworkPolicy>().Where(p => p.Spec.PolicyTypes.Contains("Egress")
            && p.Spec.PodSelector.MatchLabels is { Count: > 0 } labels && Matches(labels, api.Spec.Template.Metadata.Labels)).ToList();
        Assert.Contains(policies, p => p.Spec.Egress.Any(rule =>
            rule.Ports.Any(port => port.Port.Value == "3001" && port.Protocol == "TCP")
            && rule.To.Any(to => to.IpBlock?.Cidr == "0.0.0.0/0")));
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void The_api_is_behind_a_tls_ingress_with_an_autoscaler(string target)
    {
        var m = Kustomize.Render(target);
        var api = Assert.Single(m.OfType<V1Deployment>(), d => d.Metadata.Name == "parley-api");
        var ingress = Assert.Single(m.OfType<V1Ingress>());

        Assert.Equal(["serve", "--roles", "api"], api.Spec.Template.Spec.Containers.Single().Args);
        Assert.False(string.IsNullOrEmpty(ingress.Metadata.Annotations["cert-manager.io/cluster-issuer"]));
        var tls = Assert.Single(ingress.Spec.Tls);
        Assert.Equal(ingress.Spec.Rules.Select(r => r.Host), tls.Hosts);
        var root = Assert.Single(ingress.Spec.Rules.SelectMany(r => r.Http.Paths), p => p.Path == "/");
        Assert.True(Matches(m.OfType<V1Service>().Single(s => s.Metadata.Name == root.Backend.Service.Name).Spec.Selector, api.Spec.Template.Metadata.Labels));
        Assert.Contains(m.OfType<V2HorizontalPodAutoscaler>(), h => h.Spec.ScaleTargetRef.Name == "parley-api");
        if (!target.StartsWith("overlays/single-node", StringComparison.Ordinal))
        {
            var pdb = Assert.Single(m.OfType<V1PodDisruptionBudget>());
            Assert.True(Matches(pdb.Spec.Selector.MatchLabels, api.Spec.Template.Metadata.Labels));
        }
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Push_and_pull_modes_are_exclusive_and_pull_mode_scales_on_the_sqs_queues(string target)
    {
        var m = Kustomize.Render(target);
        var orchestrator = m.OfType<V1Deployment>().Any(d => d.Metadata.Name == "parley-orchestrator");
        var scaledJobs = m.Custom("ScaledJob").ToList();
        Assert.True(orchestrator ^ scaledJobs.Count > 0, $"{target}: exactly one of the orchestrator (push) and a KEDA ScaledJob (pull) must take bot jobs");
        if (scaledJobs.Count == 0)
        {
            return;
        }

        var config = m.ConfigMap("parley-config", "parley").Data;
        var scaled = Assert.Single(scaledJobs);
        var workload = m.Workloads().Single(w => w.Name.StartsWith("ScaledJob ", StringComparison.Ordinal));
        var bot = Assert.Single(workload.Pod.Containers);
        Assert.Equal(["bot", "run", "--from-queue"], bot.Args);
        Assert.Equal("Never", workload.Pod.RestartPolicy);
        var environment = Environment(m, workload, bot);
        Assert.StartsWith("http://parley-api.parley.svc", environment["PARLEY_API_URL"], StringComparison.Ordinal);

        var spec = Yaml.Map(scaled, "spec");
        Assert.Equal("0", Yaml.Map(spec, "jobTargetRef")["backoffLimit"].ToString());
        var triggers = Yaml.List(spec, "triggers").Cast<Dictionary<object, object>>().ToList();
        // Every queue Parley sends bot jobs to is watched (SQS_QUEUE_URL_PARLEY falls back to Meet/Teams).
        var watched = new HashSet<string>(StringComparer.Ordinal);
        foreach (var trigger in triggers)
        {
            Assert.Equal("aws-sqs-queue", Yaml.Str(trigger, "type"));
            var metadata = Yaml.Map(trigger, "metadata");
            var fromEnv = Yaml.OptionalStr(metadata, "queueURLFromEnv");
            var url = Yaml.OptionalStr(metadata, "queueURL") ?? (fromEnv is null ? null : environment.GetValueOrDefault(fromEnv));
            Assert.True(url is not null && url.StartsWith("https://", StringComparison.Ordinal), $"{target}: trigger has no queue URL the bot container also gets ({fromEnv})");
            watched.Add(url);
            Assert.Equal(config["AWS_REGION"], Yaml.Str(metadata, "awsRegion"));
            Assert.Equal("false", Yaml.Str(metadata, "scaleOnInFlight"));
            var authName = Yaml.Str(Yaml.Map(trigger, "authenticationRef"), "name");
            var auth = m.Custom("TriggerAuthentication").Single(a => Yaml.Str(Yaml.Map(a, "metadata"), "name") == authName);
            foreach (Dictionary<object, object> reference in Yaml.List(Yaml.Map(auth, "spec"), "secretTargetRef"))
            {
                Assert.Contains(Yaml.Str(reference, "key"), m.Secret(Yaml.Str(reference, "name"), "parley").StringData.Keys);
            }
        }

        Assert.Equal(new[] { "SQS_QUEUE_URL_MEET_TEAMS", "SQS_QUEUE_URL_ZOOM" }.Select(k => config[k]).Order(), watched.Order());
        Assert.Equal("sum", Yaml.Str(Yaml.Map(spec, "scalingStrategy"), "multipleScalersCalculation"));
    }

    [Theory]
    [InlineData("base+components/cronjobs")]
    [InlineData("overlays/production+components/cronjobs")]
    public void The_cronjobs_run_the_meeting_baas_jobs_instead_of_the_jobs_role(string target)
    {
        var m = Kustomize.Render(target);
        var cronJobs = m.OfType<V1CronJob>().ToList();

        foreach (var name in new[] { "scheduled-bot-job", "data-retention-deletion-job", "team-permanent-deletion-job" })
        {
            Assert.Contains(cronJobs, c => c.Metadata.Name == name);
        }

        foreach (var cron in cronJobs)
        {
            var container = Assert.Single(cron.Spec.JobTemplate.Spec.Template.Spec.Containers);
            Assert.Equal(["job", "run", cron.Metadata.Name], container.Args);
            Assert.Equal("Forbid", cron.Spec.ConcurrencyPolicy);
            Assert.Equal(cron.Metadata.Name, cron.Spec.JobTemplate.Spec.Template.Metadata.Labels["cron"]);
        }

        Assert.Equal(ParleyCli.JobNames.Order(), cronJobs.Select(c => c.Metadata.Name).Order());
        Assert.DoesNotContain(m.OfType<V1Deployment>(), d => d.Spec.Template.Spec.Containers.Any(c => c.Args.Contains("--roles") && c.Args[^1].Split(',').Contains("jobs")));
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Pods_run_unprivileged_as_the_image_user_with_requests_and_limits(string target)
    {
        var m = Kustomize.Render(target);
        foreach (var w in m.Workloads())
        {
            var security = w.Pod.SecurityContext;
            Assert.True(security?.RunAsNonRoot == true && security.RunAsUser == AppUid, $"{target}: {w.Name} must run as non-root uid {AppUid} (the image's user)");
            foreach (var c in Containers(w))
            {
                var where = $"{target}: {w.Name}, container {c.Name}";
                Assert.True(c.SecurityContext?.AllowPrivilegeEscalation == false, $"{where}: allowPrivilegeEscalation must be false");
                Assert.Contains("ALL", c.SecurityContext.Capabilities.Drop);
                foreach (var resource in new[] { "cpu", "memory" })
                {
                    Assert.True(c.Resources?.Requests?.ContainsKey(resource) == true && c.Resources.Limits?.ContainsKey(resource) == true, $"{where}: no {resource} request and limit");
                    Assert.True(c.Resources.Requests[resource].ToDecimal() <= c.Resources.Limits[resource].ToDecimal(), $"{where}: {resource} request above its limit");
                }
            }
        }
    }

    private static IEnumerable<V1Container> Containers(Workload w) => w.Pod.Containers.Concat(w.Pod.InitContainers ?? []);

    private static bool Matches(IDictionary<string, string>? selector, IDictionary<string, string>? labels) =>
        selector is { Count: > 0 } && labels is not null && selector.All(kv => labels.TryGetValue(kv.Key, out var v) && v == kv.Value);

    private static void AssertProbe(V1Probe? probe, string path, int port, V1Container container, string where)
    {
        Assert.True(probe?.HttpGet is not null, $"{where}: no HTTP probe");
        Assert.Equal(path, probe.HttpGet.Path);
        var value = probe.HttpGet.Port.Value;
        var resolved = int.TryParse(value, CultureInfo.InvariantCulture, out var number) ? number : container.Ports?.SingleOrDefault(p => p.Name == value)?.ContainerPort;
        Assert.True(resolved == port, $"{where}: probe port '{value}' is not the HTTP port {port}");
    }

    /// <summary>Every variable a container gets, from env and envFrom (whose ConfigMaps and Secrets must exist).</summary>
    private static Dictionary<string, string> Environment(Manifests m, Workload w, V1Container c)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var source in c.EnvFrom ?? [])
        {
            Assert.Null(source.Prefix);
            if (source.ConfigMapRef is { } cm)
            {
                foreach (var (key, value) in m.ConfigMap(cm.Name, w.Namespace).Data)
                {
                    values[key] = value;
                }
            }
            else
            {
                foreach (var (key, value) in m.Secret(source.SecretRef.Name, w.Namespace).StringData)
                {
                    values[key] = value;
                }
            }
        }

        foreach (var variable in c.Env ?? [])
        {
            values[variable.Name] = variable.Value ?? $"<{variable.ValueFrom?.FieldRef?.FieldPath ?? "reference"}>";
        }

        return values;
    }

    private static (string Kind, string Name, string? Namespace) Identify(object item) => item switch
    {
        IKubernetesObject<V1ObjectMeta> typed => (typed.Kind, typed.Metadata.Name, typed.Metadata.NamespaceProperty),
        Dictionary<object, object> custom => (Yaml.Str(custom, "kind"), Yaml.Str(Yaml.Map(custom, "metadata"), "name"), Yaml.OptionalStr(Yaml.Map(custom, "metadata"), "namespace")),
        _ => throw new Xunit.Sdk.XunitException("unexpected object " + item.GetType()),
    };
}
