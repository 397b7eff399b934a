using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Groundwork.Hosting;

/// <summary>
/// The telemetry settings every Groundwork host reads the same way (silo, client, and the gateway to come): one
/// parser of <c>Groundwork:Telemetry:*</c> and the standard <c>OTEL_*</c> variables. Each host then wires its own
/// instrumentation (the silo adds ASP.NET Core and Prometheus) with these values.
/// </summary>
public sealed record TelemetrySettings
{
    /// <summary>The share of new traces recorded, 0 to 1 (<c>Groundwork:Telemetry:TraceSampleRatio</c>, default 1).</summary>
    public double TraceSampleRatio { get; init; } = 1.0;

    /// <summary>Why the configured ratio was refused, or null.</summary>
    public string? TraceSampleRatioProblem { get; init; }

    /// <summary>Whether <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set: traces and logs go out over OTLP.</summary>
    public bool Otlp { get; init; }

    /// <summary>Whether metrics go out over OTLP too (<c>Groundwork:Telemetry:OtlpMetrics</c>, else the host's default and <c>OTEL_METRICS_EXPORTER</c>).</summary>
    public bool OtlpMetrics { get; init; }

    /// <summary>The service name: <c>OTEL_SERVICE_NAME</c>, else the host's.</summary>
    public string ServiceName { get; init; } = "";

    /// <summary>The <c>service.instance.id</c> that <c>OTEL_RESOURCE_ATTRIBUTES</c> names, or null (the host then names itself).</summary>
    public string? ConfiguredInstanceId { get; init; }

    /// <summary>
    /// Reads the settings. <paramref name="pushMetricsByDefault"/>: whether this kind of host pushes metrics over OTLP
    /// when nothing says otherwise (clients do; silos are scraped, so they do not, unless <c>OTEL_METRICS_EXPORTER=otlp</c>).
    /// </summary>
    public static TelemetrySettings From(IConfiguration configuration, string defaultServiceName, bool pushMetricsByDefault)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var ratioText = configuration["Groundwork:Telemetry:TraceSampleRatio"];
        double ratio = 1.0;
        string? problem = null;
        if (!string.IsNullOrEmpty(ratioText) &&
            !(double.TryParse(ratioText, NumberStyles.Float, CultureInfo.InvariantCulture, out ratio) && ratio is >= 0 and <= 1))
        {
            problem = $"Groundwork:Telemetry:TraceSampleRatio '{ratioText}' is not a number from 0 to 1: use for example 0.1 to record one trace in ten.";
            ratio = 1.0;
        }

        var exporter = configuration["OTEL_METRICS_EXPORTER"];
        var otlpMetrics = configuration["Groundwork:Telemetry:OtlpMetrics"] is { Length: > 0 } setting
            ? string.Equals(setting, "true", StringComparison.OrdinalIgnoreCase)
            : pushMetricsByDefault
                ? !string.Equals(exporter, "none", StringComparison.OrdinalIgnoreCase)
                : string.Equals(exporter, "otlp", StringComparison.OrdinalIgnoreCase);
        return new TelemetrySettings
        {
            TraceSampleRatio = ratio,
            TraceSampleRatioProblem = problem,
            Otlp = !string.IsNullOrEmpty(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]),
            OtlpMetrics = otlpMetrics,
            ServiceName = configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } named ? named : defaultServiceName,
            ConfiguredInstanceId = ResourceAttribute(configuration["OTEL_RESOURCE_ATTRIBUTES"], "service.instance.id") is { Length: > 0 } id ? id : null,
        };
    }

    /// <summary>
    /// The value of <paramref name="key"/> in an <c>OTEL_RESOURCE_ATTRIBUTES</c> list (<c>k1=v1,k2=v2</c>, values
    /// percent-encoded), or null.
    /// </summary>
    public static string? ResourceAttribute(string? attributes, string key)
    {
        foreach (var pair in (attributes ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0 && pair[..equals].Trim() == key)
            {
                return Uri.UnescapeDataString(pair[(equals + 1)..].Trim());
            }
        }

        return null;
    }
}
