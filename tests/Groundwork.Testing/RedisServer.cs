using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace Groundwork.Testing;

/// <summary>
/// A real <c>redis-server</c> process on loopback, on a free port with its own folder. Tests that need Redis start
/// one; when the program is missing they fail saying how to install it (.ci/run installs it).
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private Process _process;

    private RedisServer(Process process, int port, string folder)
    {
        _process = process;
        Port = port;
        Folder = folder;
    }

    /// <summary>The port.</summary>
    public int Port { get; }

    /// <summary>The data folder.</summary>
    public string Folder { get; }

    /// <summary>The StackExchange.Redis connection string.</summary>
    public string ConnectionString => $"127.0.0.1:{Port}";

    /// <summary>Starts redis-server with AOF on, and waits until it answers PING.</summary>
    public static async Task<RedisServer> StartAsync()
    {
        var port = SiloProcess.FreePort();
        var folder = Path.Combine(Path.GetTempPath(), "groundwork-redis", Guid.NewGuid().ToString("n"));
        Directory.CreateDirectory(folder);
        var server = new RedisServer(Launch(port, folder), port, folder);
        await server.WaitForPingAsync(TimeSpan.FromSeconds(20));
        return server;
    }

    /// <summary>Kills the server at once (SIGKILL, no shutdown save): what survives is what the AOF had.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
    }

    /// <summary>Starts the server again on the same port and folder (after <see cref="KillAsync"/>), and waits for PING.</summary>
    public async Task RestartAsync()
    {
        await KillAsync();
        _process.Dispose();
        _process = Launch(Port, Folder);
        await WaitForPingAsync(TimeSpan.FromSeconds(20));
    }

    private static Process Launch(int port, string folder)
    {
        var executable = FindOnPath("redis-server") ?? throw new InvalidOperationException(
            "redis-server is not installed: run 'apt-get install -y redis-server' (.ci/run installs it before the tests).");
        var info = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
                     "--dir", folder, "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no" })
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS temp cleanup.
        }
    }

    private async Task WaitForPingAsync(TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"redis-server exited with {_process.ExitCode} on port {Port}");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", Port);
                var stream = client.GetStream();
                await stream.WriteAsync(Encoding.ASCII.GetBytes("PING\r\n"));
                var buffer = new byte[16];
                var read = await stream.ReadAsync(buffer);
                if (Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal))
                {
                    return;
                }
            }
            catch (SocketException) when (deadline.Elapsed < timeout)
            {
                // Not listening yet.
            }

            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"redis-server did not answer PING on port {Port} within {timeout}");
            }

            await Task.Delay(50);
        }
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/bin").Append("/usr/sbin")
            .Select(folder => Path.Combine(folder, name))
            .FirstOrDefault(File.Exists);
}
