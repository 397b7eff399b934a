using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Groundwork.Transport;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

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
    /// Traces and metrics go to OpenTelemetry (OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set).
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
                var refresh = configuration.GetValue($"{GroundworkClientOptions.SectionName}:GatewayListRefreshPeriod", new GroundworkClientOptions().GatewayListRefreshPeriod);
                client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = refresh);
            }

            client.AddGroundworkCredentials();
            client.UseGroundworkTls(configuration);
        });

        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(builder.Environment.ApplicationName))
            .WithTracing(t => t.AddSource("Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application", GroundworkTelemetry.ActivitySourceName))
            .WithMetrics(m => m.AddMeter("Microsoft.Orleans", GroundworkTelemetry.MeterName).AddRuntimeInstrumentation());
        if (!string.IsNullOrEmpty(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        }

        return builder;
    }

    /// <summary>
    /// Adds what every Groundwork client needs on an Orleans client builder: the credential on each call, a
    /// malformed-key check before sending, trace propagation, and connection retries up to the connect timeout.
    /// </summary>
    public static IClientBuilder AddGroundworkCredentials(this IClientBuilder client)
    {
        ArgumentNullException.ThrowIfNull(client);
        client.AddActivityPropagation();
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
