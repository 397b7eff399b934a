using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Groundwork.Testing;

/// <summary>
/// A real silo process, started the way the README runs it (the built <c>Groundwork.Silo.dll</c> on the embedded
/// default), in its own working folder and on its own free ports.
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private bool _disposed;

    private SiloProcess(Process process, string folder, int httpPort, int gatewayPort)
    {
        _process = process;
        Folder = folder;
        HttpPort = httpPort;
        GatewayPort = gatewayPort;
        process.OutputDataReceived += (_, e) => Append(_stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Append(_stderr, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>The working folder; the silo keeps its data in <c>./data</c> below it.</summary>
    public string Folder { get; }

    /// <summary>The HTTP port.</summary>
    public int HttpPort { get; }

    /// <summary>The Orleans gateway port.</summary>
    public int GatewayPort { get; }

    /// <summary>The base address of the HTTP endpoints.</summary>
    public Uri BaseAddress => new($"http://127.0.0.1:{HttpPort}");

    /// <summary>What the process wrote to standard output so far.</summary>
    public string Output
    {
        get
        {
            lock (_stdout)
            {
                return _stdout.ToString();
            }
        }
    }

    /// <summary>What the process wrote to standard error so far.</summary>
    public string Errors
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>Whether the process has exited, and its exit code.</summary>
    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    /// <summary>The CPU time (user and system) the process has used so far, for the benchmarks.</summary>
    public TimeSpan CpuTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    /// <summary>The built silo, located from this test assembly's build configuration.</summary>
    public static string SiloAssemblyPath => BuiltAssemblyPath(Path.Combine("silo", "Groundwork.Silo"), "Groundwork.Silo.dll");

    /// <summary>A program of this repository built in the same configuration as the running tests.</summary>
    public static string BuiltAssemblyPath(string projectFolder, string assembly)
    {
        var here = AppContext.BaseDirectory;
        var root = new DirectoryInfo(here);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Runtime.sln")))
        {
            root = root.Parent;
        }

        if (root is null)
        {
            throw new InvalidOperationException($"Runtime.sln not found above {here}");
        }

        var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(here)).Parent!.Name;
        var path = Path.Combine(root.FullName, projectFolder, "bin", configuration, "net10.0", assembly);
        return File.Exists(path) ? path : throw new InvalidOperationException($"{assembly} is not built at {path}: build Runtime.sln first.");
    }

    /// <summary>A TCP port free on loopback right now.</summary>
    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Starts a silo in <paramref name="folder"/> (a new temporary one when null) with extra settings.</summary>
    public static SiloProcess Start(string? folder = null, IReadOnlyDictionary<string, string>? environment = null, int? httpPort = null, int? gatewayPort = null)
    {
        folder ??= Path.Combine(Path.GetTempPath(), "groundwork-silo-tests", Guid.NewGuid().ToString("n"));
        Directory.CreateDirectory(folder);
        var http = httpPort ?? FreePort();
        var gateway = gatewayPort ?? FreePort();
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(SiloAssemblyPath);
        info.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{http}";
        info.Environment["Orleans__Endpoints__SiloPort"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["Orleans__Endpoints__GatewayPort"] = gateway.ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start");
        return new SiloProcess(process, folder, http, gateway);
    }

    /// <summary>The silo's process id (for a profiler to attach to).</summary>
    public int ProcessId => _process.Id;

    /// <summary>The silo process's resident memory now, in bytes (Linux: VmRSS).</summary>
    public long ResidentBytes()
    {
        var line = File.ReadLines($"/proc/{_process.Id}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }

    /// <summary>The operator key the silo generated under <c>./data</c>.</summary>
    public string OperatorKey => File.ReadAllText(Path.Combine(Folder, "data", "operator.key")).Trim();

    /// <summary>Waits until <c>/health/ready</c> answers 200; returns how long that took.</summary>
    public async Task<TimeSpan> WaitReadyAsync(TimeSpan timeout)
    {
        var started = Stopwatch.StartNew();
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        while (started.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The silo exited with {_process.ExitCode} before it was ready.\n{Errors}\n{Output}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri("/health/ready", UriKind.Relative));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return started.Elapsed;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Slow to answer while starting.
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"The silo was not ready within {timeout}.\n{Errors}\n{Output}");
    }

    /// <summary>Sends SIGTERM, as a container runtime or <c>docker stop</c> would.</summary>
    public async Task SendSigtermAsync()
    {
        if (!_process.HasExited)
        {
            using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
            await kill.WaitForExitAsync();
        }
    }

    /// <summary>Kills the process with SIGKILL (kill -9): no shutdown, no flush, as a crash or an OOM kill.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    /// <summary>Sends SIGTERM and waits for the exit code.</summary>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        await SendSigtermAsync();
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    /// <summary>Waits for the process to exit by itself (for start-up failures).</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private static void Append(StringBuilder buffer, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (buffer)
        {
            buffer.AppendLine(line);
        }
    }
}
