using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Parley.Core.Configuration;
using Parley.Hosting;
using Parley.Testing;

namespace Parley.Testing;

/// <summary>
/// The built `parley` executable as a real child process: the environment is cleaned of every Parley
/// setting the test runner may have, so each test states all the configuration it depends on.
/// </summary>
internal sealed class ParleyProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly Lock _gate = new();

    private ParleyProcess(Process process)
    {
        _process = process;
    }

    public string Stdout
    {
        get
        {
            lock (_gate)
            {
                return _stdout.ToString();
            }
        }
    }

    public string Stderr
    {
        get
        {
            lock (_gate)
            {
                return _stderr.ToString();
            }
        }
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public static ParleyProcess Start(IEnumerable<string> arguments, IReadOnlyDictionary<string, string?> environment, string workingDirectory)
    {
        var assembly = Path.Combine(AppContext.BaseDirectory, "parley.dll");
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        info.ArgumentList.Add(assembly);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var settingNames = SettingsBinder.Describe(SettingsLoader.OptionTypes).Select(d => d.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var key in info.Environment.Keys.ToList())
        {
            if (settingNames.Contains(key) || key.StartsWith("PARLEY_", StringComparison.OrdinalIgnoreCase)
                || key.StartsWith("ASPNETCORE_", StringComparison.OrdinalIgnoreCase))
            {
                info.Environment.Remove(key);
            }
        }

        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info };
        var wrapper = new ParleyProcess(process);
        process.OutputDataReceived += (_, e) => wrapper.Append(wrapper._stdout, e.Data);
        process.ErrorDataReceived += (_, e) => wrapper.Append(wrapper._stderr, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return wrapper;
    }

    /// <summary>Runs a command to completion and returns its exit code.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(
        IEnumerable<string> arguments, IReadOnlyDictionary<string, string?> environment, string workingDirectory)
    {
        await using var process = Start(arguments, environment, workingDirectory);
        var code = await process.WaitForExitAsync(TimeSpan.FromSeconds(60));
        return (code, process.Stdout, process.Stderr);
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"parley did not exit within {timeout.TotalSeconds:0}s.\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
        }

        // WaitForExitAsync returns when the process ends; the last redirected lines may still be in flight.
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public Task WaitForStdoutAsync(string text, TimeSpan timeout) =>
        Eventually.ReturnsAsync(
            () =>
            {
                if (_process.HasExited && !Stdout.Contains(text, StringComparison.Ordinal))
                {
                    throw new InvalidOperationException($"parley exited ({_process.ExitCode}) before printing '{text}'.\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
                }

                return Task.FromResult(Stdout.Contains(text, StringComparison.Ordinal) ? (object?)true : null);
            },
            timeout,
            $"'{text}' on stdout");

    /// <summary>SIGTERM, what Kubernetes and systemd send to stop a process gracefully.</summary>
    public void Terminate()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void Append(StringBuilder target, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            target.AppendLine(line);
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>A running `parley serve` on a free loopback port with its own data directory.</summary>
internal sealed class RunningServer : IAsyncDisposable
{
    private readonly TempDirectory _directory;
    private readonly bool _ownsDirectory;

    private RunningServer(ParleyProcess process, TempDirectory directory, bool ownsDirectory, int port)
    {
        Process = process;
        _directory = directory;
        _ownsDirectory = ownsDirectory;
        Port = port;
        // Generous: a loaded 2-core CI machine can take seconds to answer; tests never assert on timing.
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(60) };
    }

    public ParleyProcess Process { get; }

    public int Port { get; }

    public HttpClient Http { get; }

    public string DataDirectory => Path.Combine(_directory.Path, "data");

    public static RunningServer Start(IReadOnlyDictionary<string, string?>? environment = null, IEnumerable<string>? extraArguments = null, TempDirectory? directory = null)
    {
        var owns = directory is null;
        directory ??= new TempDirectory();
        var port = ParleyProcess.FreePort();
        var env = new Dictionary<string, string?>(environment ?? new Dictionary<string, string?>())
        {
            ["PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        env.TryAdd("PARLEY_DATA_DIR", Path.Combine(directory.Path, "data"));
        var process = ParleyProcess.Start(["serve", .. extraArguments ?? []], env, directory.Path);
        return new RunningServer(process, directory, owns, port);
    }

    /// <summary>Waits until GET path answers with the status, failing early if the process died.</summary>
    public Task<HttpResponseMessage> WaitForStatusAsync(string path, HttpStatusCode status, TimeSpan? timeout = null) =>
        Eventually.ReturnsAsync(
            async () =>
            {
                if (Process.HasExited)
                {
                    throw new InvalidOperationException($"parley exited with {Process.ExitCode}.\nstdout:\n{Process.Stdout}\nstderr:\n{Process.Stderr}");
                }

                var response = await Http.GetAsync(path);
                return response.StatusCode == status ? response : null;
            },
            // Generous: a 2-core CI machine starts a dozen servers at once while others build.
            timeout ?? TimeSpan.FromSeconds(180),
            $"GET {path} to answer {(int)status}");

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Process.DisposeAsync();
        if (_ownsDirectory)
        {
            _directory.Dispose();
        }
    }
}
