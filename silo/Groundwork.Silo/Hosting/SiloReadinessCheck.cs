using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Groundwork.Silo.Hosting;

/// <summary>Ready only while this silo is Active in the cluster and the host is not stopping.</summary>
public sealed class SiloReadinessCheck(
    IClusterMembershipService membership,
    ILocalSiloDetails local,
    IHostApplicationLifetime lifetime) : IHealthCheck
{
    /// <inheritdoc/>
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("the silo is shutting down"));
        }

        var status = membership.CurrentSnapshot.GetSiloStatus(local.SiloAddress);
        return Task.FromResult(status == SiloStatus.Active
            ? HealthCheckResult.Healthy("the silo is active")
            : HealthCheckResult.Unhealthy($"the silo is {status}"));
    }
}
