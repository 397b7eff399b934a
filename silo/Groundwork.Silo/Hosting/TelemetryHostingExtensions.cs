using Groundwork.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Groundwork.Silo.Hosting;

/// <summary>The silo's OpenTelemetry wiring: the shared defaults (<see cref="TelemetryDefaults"/>) and what only a silo has.</summary>
public static class TelemetryHostingExtensions
{
    /// <summary>The service name in the resource of every signal, unless <c>OTEL_SERVICE_NAME</c> names another.</summary>
    public const string ServiceName = "groundwork-silo";

    /// <summary>
    /// OpenTelemetry for the silo: the shared defaults (Orleans and Groundwork meters and sources, runtime and process
    /// metrics, logs with trace and span ids, parent-based sampling at <c>Groundwork:Telemetry:TraceSampleRatio</c>,
    /// OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set), plus ASP.NET Core, Orleans' storage spans and Prometheus
    /// text for <c>/metrics</c>. Metrics go out over OTLP only when <c>Groundwork:Telemetry:OtlpMetrics</c> is true
    /// (silos are scraped; pushing the same series through a collector as well would count them twice).
    /// </summary>
    public static WebApplicationBuilder AddGroundworkTelemetry(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = SiloOptions.From(builder.Configuration);

        // Console lines carry the trace and span ids (the host tracks them in the logging scope), so a log line
        // leads to its trace even without an OTLP backend.
        // Scopes on, and the simple formatter unless Logging:Console:FormatterName names another (json, systemd): with
        // no name, the console provider would rebuild the formatter's options from its own and drop the scopes.
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.FormatterName ??= Microsoft.Extensions.Logging.Console.ConsoleFormatterNames.Simple);
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.SimpleConsoleFormatterOptions>(o => o.IncludeScopes = true);
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.JsonConsoleFormatterOptions>(o => o.IncludeScopes = true);
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleFormatterOptions>(o => o.IncludeScopes = true); // systemd
        builder.Logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);

        builder.AddGroundworkOpenTelemetry(options.Telemetry, InstanceId(options),
            metrics: m => m.AddAspNetCoreInstrumentation().AddPrometheusExporter(),
            tracing: t => t.AddSource("Microsoft.Orleans.Storage").AddAspNetCoreInstrumentation());
        return builder;
    }

    /// <summary>
    /// This silo's <c>service.instance.id</c> unless <c>OTEL_RESOURCE_ATTRIBUTES</c> names one (the compose file names
    /// each silo so): the host name, the advertised address when there is one, and the silo port, which tell apart the
    /// silos of a cluster, one per container or several on one machine.
    /// </summary>
    public static string InstanceId(SiloOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Telemetry.ConfiguredInstanceId is { } named)
        {
            return named;
        }

        var address = options.AdvertisedAddress is { Length: > 0 } advertised ? $"/{advertised}" : "";
        return $"{Environment.MachineName}{address}:{options.SiloPort}";
    }
}
