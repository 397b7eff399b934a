using Groundwork.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Groundwork.Transport;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Microsoft.Extensions.Logging;

namespace Groundwork.Client.Hosting;

/// <summary>Connecting a .NET program to a Groundwork cluster.</summary>
public static class GroundworkClientExtensions
{
    /// <summary>The default gateway port of the embedded silo.</summary>
    public const int DefaultGatewayPort = 30000;

    /// <summary>The default service and cluster id.</summary>
    public const string DefaultClusterId = "groundwork";

    /// <summary>
    /// Configures an Orleans client for Groundwork, from the same configuration keys as the silo: the embedded silo
    /// on this machine by default (gateway <c>Orleans:Endpoints:GatewayPort</c>, 30000), or the cluster that
    /// <c>Orleans:Clustering:*</c> names, over TLS when <c>Groundwork:Tls:*</c> is set. Every call carries <c>Groundwork:Client:ApiKey</c>; connecting retries
    /// for <c>Groundwork:Client:ConnectTimeout</c>, and the client reconnects by itself when a gateway goes away.
    /// Traces, metrics and logs go to OpenTelemetry (OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set), service
    /// name <c>groundwork-client</c> unless <c>OTEL_SERVICE_NAME</c> is set.
    /// </summary>
    public static IHostApplicationBuilder UseGroundworkClient(this IHostApplicationBuilder builder, Action<GroundworkClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var configuration = builder.Configuration;
        builder.Services.AddOptions<GroundworkClientOptions>().Bind(configuration.GetSection(GroundworkClientOptions.SectionName));
        if (configure is not null)
        {
            builder.Services.Configure(configure);
        }

        builder.UseOrleansClient(client =>
        {
            if (string.IsNullOrEmpty(configuration["Orleans:Clustering:ProviderType"]))
            {
                client.UseLocalhostClustering(
                    configuration.GetValue("Orleans:Endpoints:GatewayPort", DefaultGatewayPort),
                    configuration["Orleans:ServiceId"] ?? DefaultClusterId,
                    configuration["Orleans:ClusterId"] ?? DefaultClusterId);
            }
            else
            {
                // From the bound options, so a value set through the configure delegate takes effect too.
                client.Services.AddOptions<GatewayOptions>()
                    .Configure<IOptions<GroundworkClientOptions>>((o, groundwork) => o.GatewayListRefreshPeriod = groundwork.Value.GatewayListRefreshPeriod);
            }

            client.AddGroundworkCredentials();
            client.UseGroundworkTls(configuration);
            GrainInterfaceTypeCache.AddTo(client.Services);
        });

        AddGroundworkClientTelemetry(builder);
        return builder;
    }

    /// <summary>The service name of a client's telemetry, unless <c>OTEL_SERVICE_NAME</c> names another.</summary>
    public const string DefaultServiceName = "groundwork-client";

    /// <summary>
    /// OpenTelemetry for a client program: the Orleans and Groundwork sources and meters, .NET runtime and process
    /// metrics, parent-based trace sampling at <c>Groundwork:Telemetry:TraceSampleRatio</c> (0 to 1, default 1), logs
    /// carrying trace and span ids; with <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set, all three signals go out over OTLP
    /// (metrics can be turned off with <c>Groundwork:Telemetry:OtlpMetrics=false</c> or <c>OTEL_METRICS_EXPORTER=none</c>).
    /// </summary>
    private static void AddGroundworkClientTelemetry(IHostApplicationBuilder builder)
    {
        var telemetry = TelemetrySettings.From(builder.Configuration, DefaultServiceName, pushMetricsByDefault: true);
        if (telemetry.TraceSampleRatioProblem is { } problem)
        {
            throw new OptionsValidationException("Groundwork:Telemetry:TraceSampleRatio", typeof(GroundworkClientOptions), [problem]);
        }

        builder.AddGroundworkOpenTelemetry(telemetry, $"{Environment.MachineName}:{Environment.ProcessId}");
    }

    /// <summary>
    /// Adds what every Groundwork client needs on an Orleans client builder: the credential on each call, a
    /// malformed-key check before sending, trace propagation, and connection retries up to the connect timeout.
    /// </summary>
    public static IClientBuilder AddGroundworkCredentials(this IClientBuilder client)
    {
        ArgumentNullException.ThrowIfNull(client);
        CallTracingFilter.AddTo(client.Services);
        client.AddOutgoingGrainCallFilter<CredentialCallFilter>();
        client.Services.AddOptions<GroundworkClientOptions>();
        client.Services.AddSingleton<IClientConnectionRetryFilter, ConnectRetryFilter>();
        return client;
    }

    private sealed class ConnectRetryFilter(IOptions<GroundworkClientOptions> options, TimeProvider? time = null) : IClientConnectionRetryFilter
    {
        private readonly TimeProvider _time = time ?? TimeProvider.System;
        private DateTimeOffset? _firstFailure;

        public async Task<bool> ShouldRetryConnectionAttempt(Exception exception, CancellationToken cancellationToken)
        {
            var now = _time.GetUtcNow();
            _firstFailure ??= now;
            if (now - _firstFailure > options.Value.ConnectTimeout)
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500), _time, cancellationToken);
            return true;
        }
    }
}
