using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Groundwork.Hosting;

/// <summary>
/// The OpenTelemetry wiring every Groundwork host shares: logs with trace and span ids, the resource, the Orleans and
/// Groundwork meters and sources with runtime and process metrics, explicit latency buckets, parent-based sampling,
/// and OTLP export as <see cref="TelemetrySettings"/> says. A host adds only what is its own (the silo: ASP.NET Core,
/// Prometheus, Orleans' storage spans).
/// </summary>
public static class TelemetryDefaults
{
    // Orleans' meter: its instruments are named in Orleans' InstrumentNames.
    private const string OrleansMeter = "Microsoft.Orleans";

    /// <summary>Histogram boundaries in milliseconds: 1 ms to 60 s, past the 30 s response timeout.</summary>
    public static readonly double[] MillisecondBuckets = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000];

    /// <summary>The same boundaries in seconds, for histograms whose unit is <c>s</c>.</summary>
    public static readonly double[] SecondBuckets = [.. MillisecondBuckets.Select(ms => ms / 1000)];

    /// <summary>Boundaries for counts of cells (unit <c>{cell}</c>): a batch recalculates none to a million.</summary>
    public static readonly double[] CellBuckets = [0, 1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];

    /// <summary>
    /// Categories that log a line per call or per activation at Information, lowered to Warning unless the
    /// configuration names them (<c>Logging:LogLevel:{category}</c>): Polly reports every attempt of the resilience
    /// pipeline Orleans places each new activation with, two lines per activation.
    /// </summary>
    public static readonly IReadOnlyList<string> QuietCategories = ["Polly"];

    private static void QuietByDefault(IHostApplicationBuilder builder)
    {
        foreach (var category in QuietCategories)
        {
            if (builder.Configuration[$"Logging:LogLevel:{category}"] is null)
            {
                builder.Logging.AddFilter(category, LogLevel.Warning);
            }
        }
    }

    /// <summary>
    /// Adds the shared wiring to <paramref name="builder"/> for a host named by <paramref name="settings"/> and
    /// <paramref name="instanceId"/>; <paramref name="metrics"/> and <paramref name="tracing"/> add the host's own.
    /// </summary>
    public static IHostApplicationBuilder AddGroundworkOpenTelemetry(this IHostApplicationBuilder builder, TelemetrySettings settings, string instanceId,
        Action<MeterProviderBuilder>? metrics = null, Action<TracerProviderBuilder>? tracing = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(settings);
        QuietByDefault(builder);
        builder.Logging.AddOpenTelemetry(o =>
        {
            o.IncludeScopes = true;
            o.IncludeFormattedMessage = true;
            if (settings.Otlp)
            {
                o.AddOtlpExporter();
            }
        });
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(settings.ServiceName, serviceInstanceId: settings.ConfiguredInstanceId ?? instanceId))
            .WithMetrics(m =>
            {
                m.AddMeter(OrleansMeter, GroundworkTelemetry.MeterName)
                    .AddRuntimeInstrumentation()
                    .AddProcessInstrumentation()
                    .AddView(LatencyView);
                metrics?.Invoke(m);
                if (settings.Otlp && settings.OtlpMetrics)
                {
                    m.AddOtlpExporter();
                }
            })
            .WithTracing(t =>
            {
                t.SetSampler(new FeedPollSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(settings.TraceSampleRatio))))
                    .AddSource("Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application", GroundworkTelemetry.ActivitySourceName);
                tracing?.Invoke(t);
                if (settings.Otlp)
                {
                    t.AddOtlpExporter();
                }
            });
        return builder;
    }

    /// <summary>
    /// Orleans instruments recorded on every message that no dashboard shows: the sizes of messages sent and received,
    /// histograms tagged with enum names turned into strings for each message (about 3 µs of silo CPU per call in all
    /// with Orleans' other per-message instruments, docs/design/call-path.md), and the directory cache's size, which
    /// Orleans counts by walking the cache. Dropped, so Orleans skips them (<see cref="Instrument.Enabled"/> is false,
    /// and an observable's callback is not called); Orleans' header byte counters still count what was sent.
    /// </summary>
    public static readonly IReadOnlySet<string> DroppedOrleansInstruments = new HashSet<string>(StringComparer.Ordinal)
    {
        "orleans-messaging-sent-messages-size",
        "orleans-messaging-received-messages-size",

        // A gauge that counts the grain directory's cache by walking it at every collection: 9 % of a gateway silo's
        // busy time in the chat delivery benchmark (metrics exported every second there).
        "orleans-directory-cache-size",
    };

    /// <summary>
    /// ASP.NET Core instruments recorded on every HTTP request that no dashboard shows and that say nothing the kept ones
    /// do not (by meter, then instrument): the route match (a miss is a 404 in <c>http.server.request.duration</c>), the
    /// authentication's duration and the authorization's result (a 401 or 403 there), the rate limiter's lease duration
    /// and leases held (the gateway's token bucket has no queue, so a lease lasts as long as its request, which
    /// <c>http.server.active_requests</c> counts), and the bytes rented from Kestrel's memory pool (several updates a
    /// request; its pooled and allocated bytes stay). Seven instrument updates a request fewer. Kept, and shown on the
    /// building-blocks dashboard: requests by route and status, their latency, requests in flight, and the rate
    /// limiter's acquired and rejected counts (docs/design/telemetry.md).
    /// </summary>
    public static readonly IReadOnlySet<(string Meter, string Instrument)> DroppedAspNetCoreInstruments = new HashSet<(string, string)>
    {
        ("Microsoft.AspNetCore.Routing", "aspnetcore.routing.match_attempts"),
        ("Microsoft.AspNetCore.Authentication", "aspnetcore.authentication.authenticate.duration"),
        ("Microsoft.AspNetCore.Authorization", "aspnetcore.authorization.attempts"),
        ("Microsoft.AspNetCore.RateLimiting", "aspnetcore.rate_limiting.request_lease.duration"),
        ("Microsoft.AspNetCore.RateLimiting", "aspnetcore.rate_limiting.active_request_leases"),
        ("Microsoft.AspNetCore.MemoryPool", "aspnetcore.memory_pool.rented"),
    };

    /// <summary>
    /// Explicit buckets for the latency histograms of Orleans and Groundwork (unit <c>ms</c> or <c>s</c>) and for counts
    /// of cells (<c>{cell}</c>), and
    /// <see cref="DroppedOrleansInstruments"/> and <see cref="DroppedAspNetCoreInstruments"/> dropped; other instruments keep their defaults.
    /// </summary>
    public static MetricStreamConfiguration? LatencyView(Instrument instrument)
    {
        ArgumentNullException.ThrowIfNull(instrument);
        if ((instrument.Meter.Name == OrleansMeter && DroppedOrleansInstruments.Contains(instrument.Name)) ||
            DroppedAspNetCoreInstruments.Contains((instrument.Meter.Name, instrument.Name)))
        {
            return MetricStreamConfiguration.Drop;
        }

        var type = instrument.GetType();
        var histogram = type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Histogram<>);
        var ours = instrument.Meter.Name is OrleansMeter or GroundworkTelemetry.MeterName;
        return (histogram && ours, instrument.Unit) switch
        {
            (true, "ms") => new ExplicitBucketHistogramConfiguration { Boundaries = MillisecondBuckets },
            (true, "s") => new ExplicitBucketHistogramConfiguration { Boundaries = SecondBuckets },
            (true, "{cell}") => new ExplicitBucketHistogramConfiguration { Boundaries = CellBuckets },
            _ => null,
        };
    }
}
