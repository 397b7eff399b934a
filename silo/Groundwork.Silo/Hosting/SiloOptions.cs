namespace Groundwork.Silo.Hosting;

/// <summary>The silo's own settings (configuration section <c>Groundwork</c>), checked before anything starts.</summary>
public sealed class SiloOptions
{
    /// <summary>The storage kinds this silo knows.</summary>
    public static readonly IReadOnlyList<string> StorageKinds = ["Sqlite"];

    /// <summary>The HTTP address when neither <c>Urls</c> nor <c>ASPNETCORE_URLS</c> is set.</summary>
    public const string DefaultUrls = "http://localhost:8080";

    /// <summary>Grain storage: <c>Sqlite</c> (the embedded default, one file at <c>Groundwork:Storage:Path</c>).</summary>
    public string StorageKind { get; set; } = "Sqlite";

    /// <summary>The SQLite file (<c>Groundwork:Storage:Path</c>). Default <c>./data/groundwork.db</c>.</summary>
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

    /// <summary>
    /// The share of new traces recorded, 0 to 1 (<c>Groundwork:Telemetry:TraceSampleRatio</c>). Default 1. Sampling is
    /// parent-based: a call that arrives in a sampled trace is always recorded, so a trace never loses its middle.
    /// </summary>
    public double TraceSampleRatio { get; set; } = 1.0;

    /// <summary>The ratio as configured, for the start-up check's message.</summary>
    public string? TraceSampleRatioSetting { get; set; }

    /// <summary>
    /// Whether metrics are also pushed over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set
    /// (<c>Groundwork:Telemetry:OtlpMetrics</c>). Default false: silos are scraped at <c>/metrics</c>, and pushing
    /// the same series through a collector into the same Prometheus would count every series twice. Unset, the
    /// standard <c>OTEL_METRICS_EXPORTER=otlp</c> turns it on.
    /// </summary>
    public bool OtlpMetrics { get; set; }

    /// <summary>Reads the settings from configuration, with their defaults.</summary>
    public static SiloOptions From(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var options = new SiloOptions();
        options.StorageKind = configuration["Groundwork:Storage:Kind"] ?? options.StorageKind;
        options.StoragePath = configuration["Groundwork:Storage:Path"] ?? options.StoragePath;
        options.SiloPort = configuration.GetValue("Orleans:Endpoints:SiloPort", options.SiloPort);
        options.GatewayPort = configuration.GetValue("Orleans:Endpoints:GatewayPort", options.GatewayPort);
        options.Urls = configuration["urls"] is { Length: > 0 } urls ? urls : options.Urls;
        options.ShutdownTimeout = configuration.GetValue("Groundwork:ShutdownTimeout", options.ShutdownTimeout);
        options.ShutdownDrain = configuration.GetValue("Groundwork:ShutdownDrain", options.ShutdownDrain);
        options.TraceSampleRatioSetting = configuration["Groundwork:Telemetry:TraceSampleRatio"];
        if (options.TraceSampleRatioSetting is { Length: > 0 } ratio)
        {
            options.TraceSampleRatio = double.TryParse(ratio, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var parsed)
                ? parsed
                : double.NaN;
        }

        options.OtlpMetrics = configuration["Groundwork:Telemetry:OtlpMetrics"] is { Length: > 0 } otlpMetrics
            ? string.Equals(otlpMetrics, "true", StringComparison.OrdinalIgnoreCase)
            : string.Equals(configuration["OTEL_METRICS_EXPORTER"], "otlp", StringComparison.OrdinalIgnoreCase);
        return options;
    }
}
