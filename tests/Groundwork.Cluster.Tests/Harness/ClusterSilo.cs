using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;

namespace Groundwork.Cluster.Tests.Harness;

/// <summary>
/// One silo of the test cluster: the published silo as a real process, on its own loopback address, run under its
/// own user id (so that iptables can cut it off from the others by owner), with the compose service's environment.
/// </summary>
public sealed class ClusterSilo : IAsyncDisposable
{
    private readonly string _assembly;
    private readonly IReadOnlyDictionary<string, string> _environment;
    private readonly StringBuilder _log = new();
    private Process? _process;

    internal ClusterSilo(string name, IPAddress address, int httpPort, int userId, string assembly, string folder, IReadOnlyDictionary<string, string> environment)
    {
        Name = name;
        Address = address;
        HttpPort = httpPort;
        UserId = userId;
        Folder = folder;
        _assembly = assembly;
        _environment = environment;
    }

    /// <summary>The compose service name (<c>silo1</c>, ...).</summary>
    public string Name { get; }

    /// <summary>The loopback address it binds and advertises (127.0.0.11, ...).</summary>
    public IPAddress Address { get; }

    /// <summary>The HTTP port on <see cref="Address"/>.</summary>
    public int HttpPort { get; }

    /// <summary>The user id the process runs as.</summary>
    public int UserId { get; }

    /// <summary>The working folder.</summary>
    public string Folder { get; }

    /// <summary>The environment it runs with (after translation from the compose file).</summary>
    public IReadOnlyDictionary<string, string> Environment => _environment;

    /// <summary>Every file and folder the process is given: its program, and the paths its environment names.</summary>
    public IReadOnlyList<string> PathsNeeded =>
        [_assembly, .. _environment.Values.Where(v => Path.IsPathRooted(v) && (File.Exists(v) || Directory.Exists(v)))];

    /// <summary>
    /// Whether this silo's user (with its group, as it runs) can read <paramref name="path"/>: false when the path, or
    /// any folder above it, is closed to that user.
    /// </summary>
    public async Task<bool> CanReadAsync(string path)
    {
        var setpriv = Tools.Find("setpriv") ?? throw new InvalidOperationException("setpriv (util-linux) is missing: apt-get install util-linux");
        var id = UserId.ToString(CultureInfo.InvariantCulture);
        using var test = Process.Start(setpriv, [$"--reuid={id}", $"--regid={id}", "--groups=" + ContainerGroup, "test", "-r", path])!;
        await test.WaitForExitAsync();
        return test.ExitCode == 0;
    }

    /// <summary>Whether the process is running.</summary>
    public bool Running => _process is { HasExited: false };

    /// <summary>The CPU time the running process has used (user and system), for the benchmarks.</summary>
    public TimeSpan CpuTime
    {
        get
        {
            var process = _process ?? throw new InvalidOperationException($"{Name} is not running.");
            process.Refresh();
            return process.TotalProcessorTime;
        }
    }

    /// <summary>The exit code of the last run, once it ended.</summary>
    public int? ExitCode => _process is { HasExited: true } p ? p.ExitCode : null;

    /// <summary>Everything the process wrote, for failure messages.</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>The last lines of <see cref="Log"/>.</summary>
    public string Tail(int lines = 40) => string.Join('\n', Log.Split('\n').TakeLast(lines));

    /// <summary>
    /// The group of the silo image's "app" user (1654), which deploy/make-certs.sh and make-operator-key.sh give the
    /// private files; each silo process joins it, as the container's user would, and only through it reads them.
    /// </summary>
    public const string ContainerGroup = "1654";

    /// <summary>Starts the process (as <see cref="UserId"/> in <see cref="ContainerGroup"/>, through setpriv).</summary>
    public void Start()
    {
        if (Running)
        {
            throw new InvalidOperationException($"{Name} is already running");
        }

        _process?.Dispose();
        var setpriv = Tools.Find("setpriv") ?? throw new InvalidOperationException("setpriv (util-linux) is missing: apt-get install util-linux");
        var info = new ProcessStartInfo(setpriv)
        {
            WorkingDirectory = Folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var id = UserId.ToString(CultureInfo.InvariantCulture);
        foreach (var argument in new[] { $"--reuid={id}", $"--regid={id}", "--groups=" + ContainerGroup, Tools.Find("dotnet") ?? "dotnet", _assembly })
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment.Clear();
        info.Environment["PATH"] = System.Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin";
        info.Environment["HOME"] = Folder;
        info.Environment["DOTNET_CLI_HOME"] = Folder;
        info.Environment["DOTNET_ROOT"] = System.Environment.GetEnvironmentVariable("DOTNET_ROOT") ?? Path.GetDirectoryName(Tools.Find("dotnet") ?? "/usr/bin/dotnet")!;
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        info.Environment["Logging__Console__FormatterName"] = "simple";
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        info.Environment["Logging__LogLevel__Orleans.Runtime.MembershipService"] = "Information";
        foreach (var (key, value) in _environment)
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"{Name} did not start");
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        Append($"--- {Name} started at {DateTimeOffset.UtcNow:O} as pid {process.Id}");
    }

    /// <summary>Waits until <c>/health/ready</c> answers 200.</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var url = new Uri($"http://{Address}:{HttpPort}/health/ready");
        while (clock.Elapsed < timeout)
        {
            if (_process is { HasExited: true } p)
            {
                throw new InvalidOperationException($"{Name} exited with {p.ExitCode} before it was ready:\n{Tail()}");
            }

            try
            {
                using var response = await http.GetAsync(url);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"{Name} was not ready within {timeout}:\n{Tail()}");
    }

    /// <summary>kill -9: the process ends at once, as in a crash or a lost host.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } p)
        {
            p.Kill();
            await p.WaitForExitAsync();
            Append($"--- {Name} killed (SIGKILL) at {DateTimeOffset.UtcNow:O}");
        }
    }

    /// <summary>SIGTERM, as <c>docker stop</c> sends; returns the exit code.</summary>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        if (_process is not { HasExited: false } p)
        {
            return _process?.ExitCode ?? 0;
        }

        await Tools.RunAsync("kill", "-TERM", p.Id.ToString(CultureInfo.InvariantCulture));
        using var cts = new CancellationTokenSource(timeout);
        await p.WaitForExitAsync(cts.Token);
        Append($"--- {Name} exited with {p.ExitCode} after SIGTERM at {DateTimeOffset.UtcNow:O}");
        return p.ExitCode;
    }

    /// <summary>Waits for the process to end by itself, up to <paramref name="timeout"/>; true when it did.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        if (_process is not { } p)
        {
            return true;
        }

        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await p.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process?.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }
    }
}
