using Groundwork.Cluster.Tests.Harness;
using Groundwork.Testing;
using Groundwork.Transport;
using Microsoft.Extensions.Configuration;
using Xunit;

namespace Groundwork.Cluster.Tests;

/// <summary>The system-target and gossip attacks of issue 9, through the cluster's TLS gateway with a raw Orleans client.</summary>
[Collection(ClusterCollection.Name)]
public sealed class GatewayAttackTests(ClusterHarness cluster)
{
    [Fact]
    public async Task Through_the_TLS_gateway_a_raw_client_reaches_neither_silo_control_nor_membership()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(cluster.ClientSettings).Build();
        await using var raw = await RawClient.ConnectAsync(client => client.UseGroundworkTls(configuration), cluster.ClientSettings);
        foreach (var silo in raw.Silos.Where(s => s.Endpoint.Port != 0))
        {
            var control = await Assert.ThrowsAsync<AccessDeniedException>(() => RawClient.WithKeyAsync(null,
                () => raw.CallSystemTargetAsync("Orleans.ISiloControl", "silo-control", silo, "GetActiveGrains", GrainType.Create("list"))));
            Assert.Equal(AccessDenialReason.OperatorOnly, control.Reason);
            var gossip = await Assert.ThrowsAsync<AccessDeniedException>(() => RawClient.WithKeyAsync(null,
                () => raw.CallSystemTargetAsync("Orleans.Runtime.IMembershipService", "clustering", silo, "MembershipChangeNotification")));
            Assert.Equal(AccessDenialReason.OperatorOnly, gossip.Reason);
        }

        await cluster.WaitForActiveSilosAsync(3, TimeSpan.FromSeconds(10));
    }
}
