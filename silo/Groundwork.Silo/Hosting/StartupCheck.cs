using System.Net;
using System.Net.Sockets;

namespace Groundwork.Silo.Hosting;

/// <summary>A setting that stops the silo at start; its message is the one line the operator sees.</summary>
public sealed class StartupSettingException(string message) : Exception(message);

/// <summary>Checks the settings that commonly go wrong before the host starts, so each fails with one clear line.</summary>
public static class StartupCheck
{
    /// <summary>Throws <see cref="StartupSettingException"/> naming the first bad setting and its fix.</summary>
    public static void Run(SiloOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!SiloOptions.StorageKinds.Contains(options.StorageKind, StringComparer.OrdinalIgnoreCase))
        {
            throw new StartupSettingException(
                $"Groundwork:Storage:Kind '{options.StorageKind}' is not a known storage kind: use one of {string.Join(", ", SiloOptions.StorageKinds)}.");
        }

        if (!(options.TraceSampleRatio is >= 0 and <= 1))
        {
            throw new StartupSettingException(
                $"Groundwork:Telemetry:TraceSampleRatio '{options.TraceSampleRatioSetting}' is not a number from 0 to 1: use for example 0.1 to record one trace in ten.");
        }

        CheckWritable(options.StoragePath);
        foreach (var (address, port, setting) in Endpoints(options))
        {
            CheckPortFree(address, port, setting);
        }
    }

    private static void CheckWritable(string path)
    {
        var full = Path.GetFullPath(path);
        try
        {
            var folder = Path.GetDirectoryName(full)!;
            Directory.CreateDirectory(folder);
            var probe = Path.Combine(folder, $".write-check-{Environment.ProcessId}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new StartupSettingException(
                $"Groundwork:Storage:Path '{full}' is not writable ({exception.Message}): set it to a file in a folder this user can write.");
        }
    }

    private static IEnumerable<(IPAddress Address, int Port, string Setting)> Endpoints(SiloOptions options)
    {
        foreach (var url in options.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(url.Replace("://+", "://0.0.0.0", StringComparison.Ordinal).Replace("://*", "://0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out var uri))
            {
                throw new StartupSettingException($"Urls '{url}' is not a URL: use for example http://localhost:8080.");
            }

            var address = uri.Host == "localhost" ? IPAddress.Loopback : IPAddress.TryParse(uri.Host, out var ip) ? ip : IPAddress.Any;
            yield return (address, uri.Port, $"Urls (ASPNETCORE_URLS) port {uri.Port}");
        }

        yield return (IPAddress.Loopback, options.SiloPort, $"Orleans:Endpoints:SiloPort {options.SiloPort}");
        yield return (IPAddress.Loopback, options.GatewayPort, $"Orleans:Endpoints:GatewayPort {options.GatewayPort}");
    }

    private static void CheckPortFree(IPAddress address, int port, string setting)
    {
        if (port == 0)
        {
            return;
        }

        try
        {
            var listener = new TcpListener(address, port);
            listener.Start();
            listener.Stop();
        }
        catch (SocketException exception) when (exception.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AccessDenied)
        {
            throw new StartupSettingException(
                $"{setting} on {address} is {(exception.SocketErrorCode == SocketError.AccessDenied ? "not allowed" : "already in use")}: stop the other process or choose another port.");
        }
    }
}
