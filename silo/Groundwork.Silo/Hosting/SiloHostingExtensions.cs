using Groundwork.Grains.Access;
using Groundwork.Grains.Hosting;
using Groundwork.Gateway;
using Groundwork.Transport;
using Orleans.Configuration;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orleans.Dashboard;

namespace Groundwork.Silo.Hosting;

/// <summary>The silo host: Orleans with Groundwork's grains, telemetry, health and the dashboard.</summary>
public static class SiloHostingExtensions
{
    private const string ReadyTag = "ready";

    /// <summary>
    /// Checks the settings (one clear line on failure, see <see cref="StartupCheck"/>), then configures the silo:
    /// localhost clustering and SQLite storage on the embedded default, Groundwork's access filter and options,
    /// OpenTelemetry, health checks and the Orleans dashboard.
    /// </summary>
    public static WebApplicationBuilder AddGroundworkSilo(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var configuration = builder.Configuration;
        var options = SiloOptions.From(configuration);
        StartupCheck.Run(options, configuration);

        builder.WebHost.UseUrls(options.Urls);
        builder.Services.AddSingleton(options);
        builder.Services.AddHostedService<ReadinessDrain>();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.ShutdownTimeout);

        // The operator key file sits beside the data unless configured elsewhere.
        if (string.IsNullOrEmpty(configuration["Groundwork:Access:OperatorKeyFile"]))
        {
            var folder = Path.GetDirectoryName(Path.GetFullPath(options.StoragePath))!;
            builder.Services.PostConfigure<AccessOptions>(o => o.OperatorKeyFile = Path.Combine(folder, "operator.key"));
        }

        builder.UseOrleans(silo =>
        {
            // Orleans:Clustering:* (for example ProviderType=Redis) selects a real cluster, configured by Orleans itself.
            if (!options.Clustered)
            {
                silo.UseLocalhostClustering(options.SiloPort, options.GatewayPort, null,
                    configuration["Orleans:ServiceId"] ?? "groundwork", configuration["Orleans:ClusterId"] ?? "groundwork");
            }
            else
            {
                silo.Configure<ClusterMembershipOptions>(o =>
                {
                    o.ProbeTimeout = options.ProbeTimeout;
                    o.NumMissedProbesLimit = options.MissedProbesLimit;
                    o.TableRefreshTimeout = options.TableRefreshTimeout;
                });
            }

            silo.AddGroundwork(configuration);
            if (options.RedisStorage)
            {
                silo.UseGroundworkRedisStorage(configuration);
            }
            else
            {
                silo.UseGroundworkSqliteStorage(configuration);
            }

            silo.UseGroundworkTls(configuration);

            // After TLS, so the guard reads decrypted frames. Without TLS the silo port is open to every local user
            // (the embedded default) or to the network (AllowPlaintext), so messages there are checked too.
            silo.UseGroundworkMessageGuard(configuration, guardSiloPort: !TlsSettings.From(configuration).Enabled);
            Groundwork.Hosting.CallTracingFilter.AddTo(silo.Services);
            silo.AddDashboard();
        });

        if (options.Clustered && !options.RedisStorage)
        {
            builder.Services.AddHostedService<StorageModeNotice>();
        }

        builder.AddGroundworkTelemetry();
        builder.Services.AddGroundworkDashboardAccess();
        if (GatewayEnabled(configuration))
        {
            builder.Services.AddGroundworkGateway(configuration);
        }

        builder.Services.AddHealthChecks().AddCheck<SiloReadinessCheck>("silo", tags: [ReadyTag]);
        return builder;
    }

    /// <summary>
    /// Maps <c>/health/live</c>, <c>/health/ready</c>, <c>/metrics</c> (open: orchestrators and scrapers call them,
    /// and they carry no tenant data), the Orleans dashboard at <c>/dashboard</c> (the operator key only, see
    /// <see cref="DashboardAccess"/>) and the HTTP gateway under <c>/v1</c> (each call checked by the silo with the
    /// key it carries).
    /// </summary>
    public static WebApplication MapGroundworkEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);

        // Every HTTP request is an outside caller: grain calls made while serving it carry no internal token, so
        // they are checked by the key they carry. Requests authenticated with the operator key (the dashboard) act
        // as the silo.
        app.Use(async (context, next) =>
        {
            if (context.GetEndpoint()?.Metadata.GetOrderedMetadata<Microsoft.AspNetCore.Authorization.IAuthorizeData>()
                    .Any(a => a.Policy == DashboardAccess.Policy) == true)
            {
                CallOrigin.MarkOperator();
            }
            else
            {
                CallOrigin.MarkExternal();
            }

            await next(context);
        });
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(ReadyTag),
            ResultStatusCodes = { [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable },
        });
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapOrleansDashboard("/dashboard").RequireOperator();
        if (GatewayEnabled(app.Configuration))
        {
            app.MapGroundworkGateway();
        }

        return app;
    }

    // The HTTP gateway is served on the silo's own port unless Groundwork:Gateway:Enabled is false.
    private static bool GatewayEnabled(IConfiguration configuration) =>
        configuration.GetValue($"{HttpGatewayOptions.SectionName}:{nameof(HttpGatewayOptions.Enabled)}", true);
}
