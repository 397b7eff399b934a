using Xunit;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using Groundwork.Client.Hosting;
using Groundwork.Client;
using Groundwork.Testing;
using Groundwork.Transport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Groundwork.Cluster.Tests.Harness;

/// <summary>
/// What docker-compose.yml describes, as real processes on this machine: a redis-server (AOF, appendfsync always),
/// then the compose file's silo services, each from the published silo, on its own loopback address (the compose
/// network's 172.28.0.N becomes 127.0.0.N), with its service's environment and TLS certificates made by
/// deploy/make-certs.sh. Shared by every cluster test; stopped at the end, also when a test fails.
/// </summary>
public sealed class ClusterHarness : IAsyncLifetime
{
    /// <summary>
    /// The compose environment keys whose values name things inside Docker (host names, mounted paths, the compose
    /// network): the harness replaces them with their local counterparts. Every other key is passed as written.
    /// </summary>
    public static readonly IReadOnlySet<string> TranslatedKeys = new HashSet<string>(StringComparer.Ordinal)
    {
        "ASPNETCORE_URLS",
        "Orleans__Clustering__ConnectionString",
        "Groundwork__Storage__ConnectionString",
        "Orleans__Endpoints__AdvertisedIPAddress",
        "Groundwork__Access__OperatorKeyFile",
        "Groundwork__Tls__CertificatePath",
        "Groundwork__Tls__KeyPath",
        "Groundwork__Tls__CaPath",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    };

    private readonly List<ClusterSilo> _silos = [];
    private string _root = "";
    private GroundworkClientHost? _client;

    /// <summary>The resolved compose file.</summary>
    public ComposeFile Compose { get; private set; } = null!;

    /// <summary>The Redis server holding membership, state and reminders.</summary>
    public RedisServer Redis { get; private set; } = null!;

    /// <summary>The silos, in compose order.</summary>
    public IReadOnlyList<ClusterSilo> Silos => _silos;

    /// <summary>The compose file's HTTP gateway service as a real process (an Orleans client of the cluster).</summary>
    public ClusterSilo Gateway { get; private set; } = null!;

    /// <summary>Where <see cref="Gateway"/> serves HTTP.</summary>
    public Uri GatewayUrl => new($"http://{Gateway.Address}:{Gateway.HttpPort}");

    /// <summary>Receives the silos' and the client's traces and logs (in place of the compose file's collector).</summary>
    public OtlpReceiver Otlp { get; private set; } = null!;

    /// <summary>The operator key every silo shares.</summary>
    public string OperatorKey { get; private set; } = "";

    /// <summary>The folder of the certificates made by deploy/make-certs.sh.</summary>
    public string CertificateFolder { get; private set; } = "";

    /// <summary>A client joined through Redis (any gateway), over TLS, calling with the operator key.</summary>
    public IClusterClient Client => _client!.Client;

    /// <summary>The client's configuration: the same keys a silo reads, as a builder would set them.</summary>
    public IReadOnlyDictionary<string, string?> ClientSettings { get; private set; } = new Dictionary<string, string?>();

    /// <inheritdoc/>
    public async Task InitializeAsync()
    {
        try
        {
            await StartAsync();
        }
        catch
        {
            // xUnit does not dispose a fixture whose start failed: stop what did start (silos, Redis) before failing.
            await DisposeAsync();
            throw;
        }
    }

    private async Task StartAsync()
    {
        if (!OperatingSystem.IsLinux() || System.Environment.UserName != "root")
        {
            throw new InvalidOperationException("The cluster tests run silos under their own user ids and cut them apart with iptables: run them as root (CI does).");
        }

        _root = Path.Combine(Path.GetTempPath(), "groundwork-cluster", Guid.NewGuid().ToString("n")[..8]);
        Directory.CreateDirectory(_root);
        MakeReadable(_root);
        Compose = await ComposeFile.LoadAsync();
        var published = await PublishAsync(_root, Path.Combine("silo", "Groundwork.Silo", "Groundwork.Silo.csproj"), "publish");
        var gatewayPublished = await PublishAsync(_root, Path.Combine("client", "Groundwork.Gateway", "Groundwork.Gateway.csproj"), "publish-gateway");
        CertificateFolder = Path.Combine(_root, "certs");
        await MakeCertificatesAsync(CertificateFolder, Path.Combine(_root, "ca"));
        var secrets = Path.Combine(_root, "secrets");
        await Tools.RunAsync("bash", Path.Combine(Repository.Root, "deploy", "make-operator-key.sh"), secrets);
        OperatorKey = (await File.ReadAllTextAsync(Path.Combine(secrets, "operator.key"))).Trim();
        Redis = await RedisServer.StartAsync();
        Otlp = OtlpReceiver.Start();

        var index = 0;
        foreach (var service in Compose.Silos)
        {
            index++;
            var address = LoopbackFor(service.Address);
            var environment = Translate(service, address, Path.Combine(secrets, "operator.key"), out var httpPort);
            var folder = Path.Combine(_root, service.Name);
            Directory.CreateDirectory(folder);
            MakeWritable(folder);
            _silos.Add(new ClusterSilo(service.Name, address, httpPort, 41000 + index, published, folder, environment));
        }

        foreach (var silo in _silos)
        {
            silo.Start();
        }

        await Task.WhenAll(_silos.Select(s => s.WaitReadyAsync(TimeSpan.FromSeconds(60))));

        var gatewayAddress = LoopbackFor(Compose.Gateway.Address);
        var gatewayFolder = Path.Combine(_root, Compose.Gateway.Name);
        Directory.CreateDirectory(gatewayFolder);
        MakeWritable(gatewayFolder);
        var gatewayEnvironment = Translate(Compose.Gateway, gatewayAddress, Path.Combine(secrets, "operator.key"), out var gatewayPort);
        Gateway = new ClusterSilo(Compose.Gateway.Name, gatewayAddress, gatewayPort, 41000 + index + 1, gatewayPublished, gatewayFolder, gatewayEnvironment);
        Gateway.Start();
        await Gateway.WaitReadyAsync(TimeSpan.FromSeconds(60));
        var first = _silos[0].Environment;
        ClientSettings = new Dictionary<string, string?>
        {
            ["Orleans:ServiceId"] = first["Orleans__ServiceId"],
            ["Orleans:ClusterId"] = first["Orleans__ClusterId"],
            ["Orleans:Clustering:ProviderType"] = first["Orleans__Clustering__ProviderType"],
            ["Orleans:Clustering:ConnectionString"] = first["Orleans__Clustering__ConnectionString"],
            ["Groundwork:Tls:CertificatePath"] = first["Groundwork__Tls__CertificatePath"],
            ["Groundwork:Tls:KeyPath"] = first["Groundwork__Tls__KeyPath"],
            ["Groundwork:Tls:CaPath"] = first["Groundwork__Tls__CaPath"],
        };
        foreach (var (key, value) in Otlp.Environment("groundwork-client"))
        {
            ((Dictionary<string, string?>)ClientSettings)[key] = value;
        }

        _client = await GroundworkClientHost.ConnectAsync(OperatorKey, ClientSettings);
        await WaitForActiveSilosAsync(_silos.Count, TimeSpan.FromSeconds(30));
    }

    /// <summary>Runs deploy/make-certs.sh: a CA in <paramref name="caFolder"/> and the node certificate it signs in <paramref name="folder"/>.</summary>
    public static Task MakeCertificatesAsync(string folder, string caFolder) =>
        Tools.RunAsync("bash", Path.Combine(Repository.Root, "deploy", "make-certs.sh"), folder, caFolder);

    /// <summary>
    /// Starts (but does not wait for) a client host with <see cref="ClientSettings"/>, <paramref name="changes"/>
    /// applied (a null value removes the key), and a short connect timeout.
    /// </summary>
    public IHost BuildClient(IReadOnlyDictionary<string, string?> changes, TimeSpan connectTimeout)
    {
        var settings = new Dictionary<string, string?>(ClientSettings);
        foreach (var (key, value) in changes)
        {
            if (value is null)
            {
                settings.Remove(key);
            }
            else
            {
                settings[key] = value;
            }
        }

        var builder = Host.CreateApplicationBuilder();
        foreach (var (key, value) in settings)
        {
            builder.Configuration[key] = value;
        }

        builder.Configuration["Groundwork:Client:ApiKey"] = OperatorKey;
        builder.Configuration["Groundwork:Client:ConnectTimeout"] = connectTimeout.ToString("c", System.Globalization.CultureInfo.InvariantCulture);
        Groundwork.Client.Hosting.GroundworkClientExtensions.UseGroundworkClient(builder);
        return builder.Build();
    }

    /// <inheritdoc/>
    public async Task DisposeAsync()
    {
        await Partition.HealAllAsync();
        if (_client is not null)
        {
            try
            {
                await _client.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (TimeoutException)
            {
                // The processes go below anyway.
            }
        }

        if (Gateway is not null)
        {
            await Gateway.DisposeAsync();
        }

        foreach (var silo in _silos)
        {
            await silo.DisposeAsync();
        }

        if (Redis is not null)
        {
            await Redis.DisposeAsync();
        }

        if (Otlp is not null)
        {
            await Otlp.DisposeAsync();
        }

        try
        {
            if (_root.Length > 0)
            {
                Directory.Delete(_root, recursive: true);
            }
        }
        catch (IOException)
        {
            // Left for the OS temp cleanup.
        }
    }

    /// <summary>A client that talks to one gateway only (static list), over TLS.</summary>
    public async Task<IHost> ConnectThroughAsync(ClusterSilo silo)
    {
        ArgumentNullException.ThrowIfNull(silo);
        var builder = Host.CreateApplicationBuilder();
        foreach (var (key, value) in ClientSettings)
        {
            builder.Configuration[key] = value;
        }

        builder.Configuration["Groundwork:Client:ApiKey"] = OperatorKey;
        var gateway = int.Parse(silo.Environment["Orleans__Endpoints__GatewayPort"], CultureInfo.InvariantCulture);
        builder.UseOrleansClient(client =>
        {
            client.UseStaticClustering(new IPEndPoint(silo.Address, gateway));
            client.Configure<Orleans.Configuration.ClusterOptions>(o =>
            {
                o.ServiceId = ClientSettings["Orleans:ServiceId"]!;
                o.ClusterId = ClientSettings["Orleans:ClusterId"]!;
            });
            client.AddGroundworkCredentials();
            client.UseGroundworkTls(builder.Configuration);
        });
        builder.Services.Configure<GroundworkClientOptions>(o => o.ApiKey = OperatorKey);
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    /// <summary>The silo hosting <paramref name="grain"/>'s activation (activating it if needed), or null.</summary>
    public async Task<ClusterSilo?> HostOfAsync(IAddressable grain)
    {
        var management = Client.GetGrain<IManagementGrain>(0);
        var address = await management.GetActivationAddress(grain);
        return address is null ? null : _silos.FirstOrDefault(s => s.Address.Equals(address.Endpoint.Address));
    }

    /// <summary>Waits until the membership table shows <paramref name="count"/> active silos.</summary>
    public async Task WaitForActiveSilosAsync(int count, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        var last = -1;
        Exception? error = null;
        while (clock.Elapsed < timeout)
        {
            try
            {
                var hosts = await Client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true).WaitAsync(TimeSpan.FromSeconds(5));
                last = hosts.Count;
                if (last == count)
                {
                    return;
                }
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                // A silo is going or coming; ask again.
                error = exception;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"{count} active silos expected within {timeout}, last seen {last}{(error is null ? "" : $" (last error: {error.GetType().Name}: {error.Message})")}.\n{Logs()}");
    }

    /// <summary>Starts a silo that is not running and waits until it is ready and the cluster has all silos.</summary>
    public async Task RestoreAsync(ClusterSilo silo)
    {
        ArgumentNullException.ThrowIfNull(silo);
        if (!silo.Running)
        {
            silo.Start();
        }

        await silo.WaitReadyAsync(TimeSpan.FromSeconds(60));
        await WaitForActiveSilosAsync(_silos.Count, TimeSpan.FromSeconds(60));
    }

    /// <summary>The tail of every silo's log, for failure messages.</summary>
    public string Logs() => string.Join("\n", _silos.Select(s => $"=== {s.Name} (running: {s.Running}, exit: {s.ExitCode})\n{s.Tail(25)}"));

    /// <summary>The compose network address 172.28.0.N as the loopback address 127.0.0.N.</summary>
    public static IPAddress LoopbackFor(string composeAddress)
    {
        var parts = IPAddress.Parse(composeAddress).GetAddressBytes();
        return new IPAddress([127, 0, 0, parts[3]]);
    }

    /// <summary>The environment of a compose silo service, with Docker-only values replaced by their local counterparts.</summary>
    internal Dictionary<string, string> Translate(ComposeSilo service, IPAddress address, string operatorKeyFile, out int httpPort)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        httpPort = 8080;
        foreach (var (key, value) in service.Environment)
        {
            switch (key)
            {
                case "ASPNETCORE_URLS":
                    httpPort = new Uri(value.Replace("+", "localhost", StringComparison.Ordinal)).Port;
                    environment[key] = $"http://{address}:{httpPort}";
                    break;
                case "Orleans__Clustering__ConnectionString" or "Groundwork__Storage__ConnectionString":
                    environment[key] = value.Replace("redis:6379", Redis.ConnectionString, StringComparison.Ordinal);
                    break;
                case "Orleans__Endpoints__AdvertisedIPAddress":
                    environment[key] = LoopbackFor(value).ToString();
                    break;
                case "Groundwork__Access__OperatorKeyFile":
                    environment[key] = operatorKeyFile;
                    break;
                case "Groundwork__Tls__CertificatePath" or "Groundwork__Tls__KeyPath" or "Groundwork__Tls__CaPath":
                    environment[key] = Path.Combine(CertificateFolder, Path.GetFileName(value));
                    break;
                case "OTEL_EXPORTER_OTLP_ENDPOINT":
                    // The collector's place is taken by the test's OTLP receiver (HTTP, short export delays).
                    foreach (var (otelKey, otelValue) in Otlp.Environment())
                    {
                        environment[otelKey] = otelValue;
                    }

                    break;
                default:
                    if (value.Contains("redis:", StringComparison.Ordinal) || value.Contains("/certs/", StringComparison.Ordinal)
                        || value.Contains("/run/secrets/", StringComparison.Ordinal) || value.Contains("172.28.", StringComparison.Ordinal))
                    {
                        throw new InvalidOperationException($"{service.Name}: {key}={value} names something inside Docker; add it to ClusterHarness.TranslatedKeys.");
                    }

                    environment[key] = value;
                    break;
            }
        }

        return environment;
    }

    private static async Task<string> PublishAsync(string root, string project, string folder)
    {
        // The published build, as the Dockerfile makes it, from the build the tests already did (same configuration).
        // It goes beside the silos' folders, not into the checkout: the silos run under their own user ids, which
        // cannot enter a checkout in a folder only its owner may enter (root's home, say).
        var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
        var output = Path.Combine(root, folder);
        await Tools.RunAsync("dotnet", "publish", Path.Combine(Repository.Root, project), "-c", configuration, "--no-build", "--nologo", "-o", output);
        var assembly = Path.Combine(output, Path.GetFileNameWithoutExtension(project) + ".dll");
        return File.Exists(assembly) ? assembly : throw new InvalidOperationException($"publishing {project} left no {assembly}");
    }

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static void MakeReadable(string folder) =>
        File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                                     UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static void MakeWritable(string folder) =>
        File.SetUnixFileMode(folder, (UnixFileMode)0x1FF);
}

/// <summary>The cluster tests share one cluster and run one after another.</summary>
[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterHarness>
{
    /// <summary>The collection name.</summary>
    public const string Name = "cluster";
}
