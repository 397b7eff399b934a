using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Groundwork.Silo.Hosting;

/// <summary>The silo's OpenTelemetry wiring.</summary>
public static class TelemetryHostingExtensions
{
    /// <summary>
    /// OpenTelemetry for the silo: the Orleans and Groundwork meters and sources, ASP.NET Core and runtime metrics,
    /// Prometheus text for <c>/metrics</c>, and OTLP export of all signals when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set.
    /// </summary>
    public static WebApplicationBuilder AddGroundworkTelemetry(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("groundwork-silo", serviceInstanceId: Environment.MachineName + ":" + Environment.ProcessId))
            .WithMetrics(m => m
                .AddMeter("Microsoft.Orleans", GroundworkTelemetry.MeterName)
                .AddAspNetCoreInstrumentation()
                .AddRuntimeInstrumentation()
                .AddPrometheusExporter())
            .WithTracing(t => t
                .AddSource("Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application", "Microsoft.Orleans.Storage", GroundworkTelemetry.ActivitySourceName)
                .AddAspNetCoreInstrumentation());
        if (!string.IsNullOrEmpty(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Logging.AddOpenTelemetry(o => o.IncludeScopes = true);
            otel.UseOtlpExporter();
        }

        return builder;
    }
}
