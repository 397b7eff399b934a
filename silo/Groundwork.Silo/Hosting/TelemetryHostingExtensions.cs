using System.Diagnostics.Metrics;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Groundwork.Silo.Hosting;

/// <summary>The silo's OpenTelemetry wiring.</summary>
public static class TelemetryHostingExtensions
{
    /// <summary>The service name in the resource of every signal, unless <c>OTEL_SERVICE_NAME</c> names another.</summary>
    public const string ServiceName = "groundwork-silo";

    /// <summary>
    /// Bucket boundaries (milliseconds) of Orleans' and Groundwork's latency histograms: they reach past Orleans'
    /// 30 s response timeout, so a call that times out lands in a bucket of its own instead of the last one.
    /// </summary>
    public static readonly double[] MillisecondBuckets = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000];

    /// <summary>The same boundaries in seconds, for histograms whose unit is <c>s</c>.</summary>
    public static readonly double[] SecondBuckets = [.. MillisecondBuckets.Select(ms => ms / 1000)];

    /// <summary>
    /// OpenTelemetry for the silo: the Orleans and Groundwork meters and sources, ASP.NET Core, runtime and process
    /// metrics, Prometheus text for <c>/metrics</c>, logs with trace and span ids, parent-based trace sampling at
    /// <c>Groundwork:Telemetry:TraceSampleRatio</c>, and OTLP export when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set:
    /// traces and logs always, metrics only when <c>Groundwork:Telemetry:OtlpMetrics</c> is true (silos are scraped
    /// at <c>/metrics</c>; pushing the same series through a collector as well would count them twice).
    /// </summary>
    public static WebApplicationBuilder AddGroundworkTelemetry(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var configuration = builder.Configuration;
        var options = SiloOptions.From(configuration);
        var telemetry = options.Telemetry;
        var otlp = telemetry.Otlp;

        // Console lines carry the trace and span ids (the host tracks them in the logging scope), so a log line
        // leads to its trace even without an OTLP backend.
        // Scopes on, and the simple formatter unless Logging:Console:FormatterName names another (json, systemd): with
        // no name, the console provider would rebuild the formatter's options from its own and drop the scopes.
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.FormatterName ??= Microsoft.Extensions.Logging.Console.ConsoleFormatterNames.Simple);
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.SimpleConsoleFormatterOptions>(o => o.IncludeScopes = true);
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.JsonConsoleFormatterOptions>(o => o.IncludeScopes = true);
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleFormatterOptions>(o => o.IncludeScopes = true); // systemd
        builder.Logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);
        builder.Logging.AddOpenTelemetry(o =>
        {
            o.IncludeScopes = true;
            o.IncludeFormattedMessage = true;
            if (otlp)
            {
                o.AddOtlpExporter();
            }
        });

        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(telemetry.ServiceName, serviceInstanceId: InstanceId(options)))
            .WithMetrics(m =>
            {
                m.AddMeter("Microsoft.Orleans", GroundworkTelemetry.MeterName)
                    .AddAspNetCoreInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddProcessInstrumentation()
                    .AddView(LatencyView)
                    .AddPrometheusExporter();
                if (otlp && telemetry.OtlpMetrics)
                {
                    m.AddOtlpExporter();
                }
            })
            .WithTracing(t =>
            {
                t.SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(telemetry.TraceSampleRatio)))
                    .AddSource("Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application", "Microsoft.Orleans.Storage", GroundworkTelemetry.ActivitySourceName)
                    .AddAspNetCoreInstrumentation();
                if (otlp)
                {
                    t.AddOtlpExporter();
                }
            });
        return builder;
    }

    /// <summary>
    /// This silo's <c>service.instance.id</c>: the one <c>OTEL_RESOURCE_ATTRIBUTES</c> names (the compose file names
    /// each silo so), else the host name, the advertised address when there is one, and the silo port, which tell
    /// apart the silos of a cluster, one per container or several on one machine.
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

    /// <summary>Explicit buckets for the latency histograms of Orleans and Groundwork (unit <c>ms</c> or <c>s</c>); other instruments keep their defaults.</summary>
    public static MetricStreamConfiguration? LatencyView(Instrument instrument)
    {
        ArgumentNullException.ThrowIfNull(instrument);
        var type = instrument.GetType();
        var histogram = type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Histogram<>);
        var ours = instrument.Meter.Name is "Microsoft.Orleans" or GroundworkTelemetry.MeterName;
        return (histogram && ours, instrument.Unit) switch
        {
            (true, "ms") => new ExplicitBucketHistogramConfiguration { Boundaries = MillisecondBuckets },
            (true, "s") => new ExplicitBucketHistogramConfiguration { Boundaries = SecondBuckets },
            _ => null,
        };
    }
}
