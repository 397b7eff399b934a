using System.Net;
using System.Net.Sockets;

namespace Groundwork.Silo.Hosting;

/// <summary>A setting that stops the silo at start; its message is the one line the operator sees.</summary>
public sealed class StartupSettingException(string message) : Exception(message);

/// <summary>Checks the settings that commonly go wrong before the host starts, so each fails with one clear line.</summary>
public static class StartupCheck
{
    /// <summary>Throws <see cref="StartupSettingException"/> naming the first bad setting and its fix.</summary>
    public static void Run(SiloOptions options, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!SiloOptions.StorageKinds.Contains(options.StorageKind, StringComparer.OrdinalIgnoreCase))
        {
            throw new StartupSettingException(
                $"Groundwork:Storage:Kind '{options.StorageKind}' is not a known storage kind: use one of {string.Join(", ", SiloOptions.StorageKinds)}.");
        }

        if (options.RedisStorage && string.IsNullOrWhiteSpace(options.StorageConnectionString))
        {
            throw new StartupSettingException(
                "Groundwork:Storage:Kind is Redis but Groundwork:Storage:ConnectionString is empty: set it, for example redis:6379.");
        }

        if (options.Clustered && !options.OperatorKeyConfigured)
        {
            throw new StartupSettingException(
                "A cluster (Orleans:Clustering:ProviderType) needs one operator key shared by every silo: set Groundwork:Access:OperatorKey, or Groundwork:Access:OperatorKeyFile to an existing file (see README, Deploying a cluster).");
        }

        if (options.AdvertisedAddress is { Length: > 0 } advertised && !IPAddress.TryParse(advertised, out _))
        {
            throw new StartupSettingException(
                $"Orleans:Endpoints:AdvertisedIPAddress '{advertised}' is not an IP address: give this silo's own IP (a host name does not work here).");
        }

        if (options.ProbeTimeout <= TimeSpan.Zero || options.MissedProbesLimit < 1 || options.TableRefreshTimeout <= TimeSpan.Zero)
        {
            throw new StartupSettingException(
                "Groundwork:Cluster:ProbeTimeout and TableRefreshTimeout must be positive and Groundwork:Cluster:MissedProbesLimit at least 1.");
        }

        var tls = Transport.TlsSettings.From(configuration);
        try
        {
            tls.Validate();
        }
        catch (Transport.TlsSettingsException exception)
        {
            throw new StartupSettingException(exception.Message);
        }

        var messages = new Transport.MessageLimits();
        configuration.GetSection(Transport.MessageLimits.SectionName).Bind(messages);
        if (messages.Problem() is { } messageProblem)
        {
            throw new StartupSettingException($"{messageProblem}.");
        }

        if (options.Telemetry.TraceSampleRatioProblem is { } ratioProblem)
        {
            throw new StartupSettingException(ratioProblem);
        }

        if (options.Clustered && !tls.Enabled && !tls.AllowPlaintext && ExposedWithoutTls(options) is { } exposed)
        {
            throw new StartupSettingException(
                $"This clustered silo would be reachable on {exposed} without TLS, so API keys and grain state would cross the network in clear: set Groundwork:Tls:CertificatePath, KeyPath and CaPath (deploy/make-certs.sh makes them), or Groundwork:Tls:AllowPlaintext=true on a network that is encrypted by other means.");
        }

        CheckWritable(options.StoragePath);
        foreach (var (address, port, setting) in Endpoints(options))
        {
            CheckPortFree(address, port, setting);
        }
    }

    /// <summary>
    /// Where a clustered silo would be reachable from other hosts: its advertised address unless that is loopback (with
    /// none, Orleans advertises and listens on the host's first non-loopback address), or a listening endpoint that is
    /// not loopback. Null when it stays on this host.
    /// </summary>
    private static string? ExposedWithoutTls(SiloOptions options)
    {
        if (options.AdvertisedAddress is not { Length: > 0 } advertised)
        {
            return "the host's own address (Orleans:Endpoints:AdvertisedIPAddress is not set)";
        }

        if (IPAddress.TryParse(advertised, out var address) && !IPAddress.IsLoopback(address))
        {
            return advertised;
        }

        foreach (var listening in new[] { options.SiloListeningEndpoint, options.GatewayListeningEndpoint })
        {
            if (listening is { Length: > 0 } && !(IPEndPoint.TryParse(listening, out var endpoint) && IPAddress.IsLoopback(endpoint.Address)))
            {
                return listening;
            }
        }

        return null;
    }

    private static void CheckWritable(string path)
    {
        var full = Path.GetFullPath(path);
        try
        {
            var folder = Path.GetDirectoryName(full)!;
            Grains.Storage.PrivateFiles.EnsureFolder(folder);
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

        // Orleans listens on the advertised address when one is set.
        var orleans = options.AdvertisedAddress is { Length: > 0 } a && IPAddress.TryParse(a, out var advertised) ? advertised : IPAddress.Loopback;
        yield return (orleans, options.SiloPort, $"Orleans:Endpoints:SiloPort {options.SiloPort}");
        yield return (orleans, options.GatewayPort, $"Orleans:Endpoints:GatewayPort {options.GatewayPort}");
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
