using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using k8s;
using k8s.Models;

namespace Parley.Deploy.Tests;

/// <summary>
/// `kubectl kustomize` of a directory under deploy/k8s, loaded with KubernetesClient's typed models (strict:
/// a misspelt field fails). CRDs (KEDA, Prometheus Operator) load as dictionaries and are checked field by field.
/// </summary>
internal static class Kustomize
{
    public static readonly string[] CustomKinds =
    [
        "keda.sh/v1alpha1/ScaledJob",
        "keda.sh/v1alpha1/TriggerAuthentication",
        "monitoring.coreos.com/v1/ServiceMonitor",
    ];

    private static readonly ConcurrentDictionary<string, Manifests> Cache = new(StringComparer.Ordinal);

    /// <summary>Renders deploy/k8s/{target}; a target "A+B" is kustomization A with component B added.</summary>
    public static Manifests Render(string target) => Cache.GetOrAdd(target, RenderUncached);

    private static Manifests RenderUncached(string target)
    {
        var parts = target.Split('+');
        var k8sRoot = Repository.PathOf("deploy", "k8s");
        if (parts.Length == 1)
        {
            return Load(target, Run(Path.Combine(k8sRoot, target)));
        }

        // A kustomization of our own that adds the components (kustomize takes only relative paths).
        var dir = Path.Combine(Path.GetTempPath(), "parley-kustomize-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string Relative(string part) => Path.GetRelativePath(dir, Path.Combine(k8sRoot, part)).Replace('\\', '/');
            var components = string.Concat(parts.Skip(1).Select(c => $"  - {Relative(c)}\n"));
            File.WriteAllText(Path.Combine(dir, "kustomization.yaml"),
                $"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - {Relative(parts[0])}\ncomponents:\n{components}");
            return Load(target, Run(dir));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string Run(string directory)
    {
        var info = new ProcessStartInfo("kubectl") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("kustomize");
        info.ArgumentList.Add(directory);
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException("kubectl did not start");
        }
        catch (Win32Exception ex)
        {
            throw new InvalidOperationException(
                "These tests render deploy/k8s with `kubectl kustomize`, and kubectl is not installed (" + ex.Message + "). " +
                "./test.sh installs it; or install kubectl (it includes kustomize) and run the tests again.", ex);
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            Assert.True(process.WaitForExit(120_000), $"kubectl kustomize {directory} did not finish in 2 minutes");
            Assert.True(process.ExitCode == 0, $"kubectl kustomize {directory} failed ({process.ExitCode}): {stderr.Result}");
            return stdout.Result;
        }
    }

    private static Manifests Load(string target, string yaml)
    {
        var types = CustomKinds.ToDictionary(k => k, _ => typeof(Dictionary<object, object>), StringComparer.Ordinal);
        var objects = KubernetesYaml.LoadAllFromString(yaml, types, strict: true);
        Assert.NotEmpty(objects);
        return new Manifests(target, objects);
    }
}

/// <summary>One rendered overlay: typed objects and the custom resources as dictionaries.</summary>
internal sealed class Manifests(string target, IReadOnlyList<object> objects)
{
    public string Target { get; } = target;

    public IReadOnlyList<object> All { get; } = objects;

    public IEnumerable<T> OfType<T>() => All.OfType<T>();

    public IEnumerable<Dictionary<object, object>> Custom(string kind) =>
        All.OfType<Dictionary<object, object>>().Where(d => Yaml.Str(d, "kind") == kind);

    public V1ConfigMap ConfigMap(string name, string ns) =>
        OfType<V1ConfigMap>().SingleOrDefault(c => c.Metadata.Name == name && c.Metadata.NamespaceProperty == ns)
        ?? throw new Xunit.Sdk.XunitException($"{Target}: ConfigMap {ns}/{name} is referenced but not rendered");

    public V1Secret Secret(string name, string ns) =>
        OfType<V1Secret>().SingleOrDefault(c => c.Metadata.Name == name && c.Metadata.NamespaceProperty == ns)
        ?? throw new Xunit.Sdk.XunitException($"{Target}: Secret {ns}/{name} is referenced but not rendered");

    /// <summary>Every pod template with where it comes from: Deployments, Jobs, CronJobs and KEDA ScaledJobs.</summary>
    public IEnumerable<Workload> Workloads()
    {
        foreach (var d in OfType<V1Deployment>())
        {
            yield return new Workload($"Deployment {d.Metadata.Name}", d.Metadata.NamespaceProperty, d.Spec.Template, d.Spec.Selector);
        }

        foreach (var j in OfType<V1Job>())
        {
            yield return new Workload($"Job {j.Metadata.Name}", j.Metadata.NamespaceProperty, j.Spec.Template, null);
        }

        foreach (var c in OfType<V1CronJob>())
        {
            yield return new Workload($"CronJob {c.Metadata.Name}", c.Metadata.NamespaceProperty, c.Spec.JobTemplate.Spec.Template, null);
        }

        foreach (var s in Custom("ScaledJob"))
        {
            var template = Yaml.Map(Yaml.Map(Yaml.Map(s, "spec"), "jobTargetRef"), "template");
            // The pod template of a ScaledJob is a core PodTemplateSpec: check it with the typed model too.
            var typed = KubernetesYaml.Deserialize<V1PodTemplateSpec>(KubernetesYaml.Serialize(template), strict: true);
            yield return new Workload($"ScaledJob {Yaml.Str(Yaml.Map(s, "metadata"), "name")}", Yaml.Str(Yaml.Map(s, "metadata"), "namespace"), typed, null);
        }
    }
}

internal sealed record Workload(string Name, string Namespace, V1PodTemplateSpec Template, V1LabelSelector? Selector)
{
    public V1PodSpec Pod => Template.Spec;
}

/// <summary>Reading the dictionaries YamlDotNet gives for custom resources, with a clear failure when a field is missing.</summary>
internal static class Yaml
{
    public static Dictionary<object, object> Map(Dictionary<object, object> node, string key) =>
        node.TryGetValue(key, out var value) && value is Dictionary<object, object> map ? map
            : throw new Xunit.Sdk.XunitException($"missing mapping '{key}' (has: {string.Join(", ", node.Keys)})");

    public static List<object> List(Dictionary<object, object> node, string key) =>
        node.TryGetValue(key, out var value) && value is List<object> list ? list
            : throw new Xunit.Sdk.XunitException($"missing list '{key}' (has: {string.Join(", ", node.Keys)})");

    public static string Str(Dictionary<object, object> node, string key) =>
        node.TryGetValue(key, out var value) && value is string text ? text
            : throw new Xunit.Sdk.XunitException($"missing string '{key}' (has: {string.Join(", ", node.Keys)})");

    public static string? OptionalStr(Dictionary<object, object> node, string key) =>
        node.TryGetValue(key, out var value) ? value as string : null;
}
