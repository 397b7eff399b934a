using Groundwork.Hosting;
namespace Groundwork.Silo.Hosting;

/// <summary>The silo's own settings (configuration section <c>Groundwork</c>), checked before anything starts.</summary>
public sealed class SiloOptions
{
    /// <summary>The storage kinds this silo knows.</summary>
    public static readonly IReadOnlyList<string> StorageKinds = ["Sqlite", "Redis"];

    /// <summary>The HTTP address when neither <c>Urls</c> nor <c>ASPNETCORE_URLS</c> is set.</summary>
    public const string DefaultUrls = "http://localhost:8080";

    /// <summary>
    /// Grain storage (<c>Groundwork:Storage:Kind</c>): <c>Sqlite</c> (the embedded default, one file at
    /// <c>Groundwork:Storage:Path</c>) or <c>Redis</c> (grain state and reminders at <c>Groundwork:Storage:ConnectionString</c>, for clusters).
    /// </summary>
    public string StorageKind { get; set; } = "Sqlite";

    /// <summary>The Redis connection string when <see cref="StorageKind"/> is <c>Redis</c> (<c>Groundwork:Storage:ConnectionString</c>).</summary>
    public string? StorageConnectionString { get; set; }

    /// <summary>Whether <c>Orleans:Clustering:ProviderType</c> names a real cluster (otherwise: one silo on localhost).</summary>
    public bool Clustered { get; set; }

    /// <summary>
    /// The address this silo gives the others (<c>Orleans:Endpoints:AdvertisedIPAddress</c>). Unset: loopback on the
    /// embedded default; in a cluster, Orleans picks the host's first non-loopback address.
    /// </summary>
    public string? AdvertisedAddress { get; set; }

    /// <summary>Where Orleans listens for silos, when it differs from the advertised address (<c>Orleans:Endpoints:SiloListeningEndpoint</c>).</summary>
    public string? SiloListeningEndpoint { get; set; }

    /// <summary>Where Orleans listens for clients, when it differs from the advertised address (<c>Orleans:Endpoints:GatewayListeningEndpoint</c>).</summary>
    public string? GatewayListeningEndpoint { get; set; }

    /// <summary>Whether the operator key is configured (<c>Groundwork:Access:OperatorKey</c>, or an existing <c>OperatorKeyFile</c>).</summary>
    public bool OperatorKeyConfigured { get; set; }

    /// <summary>
    /// How long a membership probe may go unanswered, and the probe period, in a cluster
    /// (<c>Groundwork:Cluster:ProbeTimeout</c>). Default 1 s (Orleans' own default is 5 s).
    /// </summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Missed probes before a silo suspects another (<c>Groundwork:Cluster:MissedProbesLimit</c>). Default 2
    /// (Orleans' own default is 3). With the probe timeout, a killed silo is declared dead in about 2-3 s.
    /// </summary>
    public int MissedProbesLimit { get; set; } = 2;

    /// <summary>
    /// How often a silo re-reads the membership table (<c>Groundwork:Cluster:TableRefreshTimeout</c>). Default 5 s
    /// (Orleans' own default is 60 s): a silo cut off from the others learns within this time that they declared it
    /// dead, and stops, instead of serving its grains alone for a minute.
    /// </summary>
    public TimeSpan TableRefreshTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The SQLite file (<c>Groundwork:Storage:Path</c>). Default <c>./data/groundwork.db</c>. Also where the generated operator key is kept.</summary>
    public string StoragePath { get; set; } = Grains.Storage.SqliteStorageOptions.DefaultPath;

    /// <summary>Orleans' silo-to-silo port (<c>Orleans:Endpoints:SiloPort</c>). Default 11111.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>Orleans' client gateway port (<c>Orleans:Endpoints:GatewayPort</c>). Default 30000.</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>The HTTP address(es) (<c>Urls</c> / <c>ASPNETCORE_URLS</c>). Default <c>http://localhost:8080</c>.</summary>
    public string Urls { get; set; } = DefaultUrls;

    /// <summary>How long a stop may take: leaving the cluster, finishing calls, deactivating grains (<c>Groundwork:ShutdownTimeout</c>). Default 30 s.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long the silo keeps serving HTTP with <c>/health/ready</c> at 503 after a stop signal, before it leaves
    /// the cluster (<c>Groundwork:ShutdownDrain</c>). Default 2 s; 0 turns it off.
    /// </summary>
    public TimeSpan ShutdownDrain { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Whether grain state is in Redis.</summary>
    public bool RedisStorage => string.Equals(StorageKind, "Redis", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The telemetry settings (<c>Groundwork:Telemetry:*</c>, <c>OTEL_*</c>), read as every Groundwork host reads them.
    /// Sampling is parent-based: a call that arrives in a sampled trace is always recorded. Silos push metrics over
    /// OTLP only with <c>Groundwork:Telemetry:OtlpMetrics=true</c> or <c>OTEL_METRICS_EXPORTER=otlp</c>: they are
    /// scraped at <c>/metrics</c>, and pushing as well would count every series twice.
    /// </summary>
    public TelemetrySettings Telemetry { get; set; } = new();

    /// <summary>Reads the settings from configuration, with their defaults.</summary>
    public static SiloOptions From(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var options = new SiloOptions();
        options.StorageKind = configuration["Groundwork:Storage:Kind"] ?? options.StorageKind;
        options.StoragePath = configuration["Groundwork:Storage:Path"] ?? options.StoragePath;
        options.StorageConnectionString = configuration["Groundwork:Storage:ConnectionString"];
        options.Clustered = !string.IsNullOrEmpty(configuration["Orleans:Clustering:ProviderType"]);
        options.AdvertisedAddress = configuration["Orleans:Endpoints:AdvertisedIPAddress"];
        options.SiloListeningEndpoint = configuration["Orleans:Endpoints:SiloListeningEndpoint"];
        options.GatewayListeningEndpoint = configuration["Orleans:Endpoints:GatewayListeningEndpoint"];
        options.OperatorKeyConfigured = !string.IsNullOrWhiteSpace(configuration["Groundwork:Access:OperatorKey"])
            || (configuration["Groundwork:Access:OperatorKeyFile"] is { Length: > 0 } keyFile && File.Exists(keyFile));
        options.ProbeTimeout = configuration.GetValue("Groundwork:Cluster:ProbeTimeout", options.ProbeTimeout);
        options.MissedProbesLimit = configuration.GetValue("Groundwork:Cluster:MissedProbesLimit", options.MissedProbesLimit);
        options.TableRefreshTimeout = configuration.GetValue("Groundwork:Cluster:TableRefreshTimeout", options.TableRefreshTimeout);
        options.SiloPort = configuration.GetValue("Orleans:Endpoints:SiloPort", options.SiloPort);
        options.GatewayPort = configuration.GetValue("Orleans:Endpoints:GatewayPort", options.GatewayPort);
        options.Urls = configuration["urls"] is { Length: > 0 } urls ? urls : options.Urls;
        options.ShutdownTimeout = configuration.GetValue("Groundwork:ShutdownTimeout", options.ShutdownTimeout);
        options.ShutdownDrain = configuration.GetValue("Groundwork:ShutdownDrain", options.ShutdownDrain);
        options.Telemetry = TelemetrySettings.From(configuration, TelemetryHostingExtensions.ServiceName, pushMetricsByDefault: false);
        return options;
    }
}
