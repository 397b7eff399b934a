using Xunit;
using System.Diagnostics;
using Groundwork.Cluster.Tests.Harness;
using Groundwork.Lists;
using Groundwork.Tenants;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit.Abstractions;

namespace Groundwork.Cluster.Tests;

/// <summary>The three-silo cluster forms over Redis and TLS, and a client reaches it through any gateway.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterTests(ClusterHarness cluster, ITestOutputHelper output)
{
    [Fact]
    public async Task Three_silos_form_one_cluster_and_a_list_written_through_one_gateway_is_read_through_another()
    {
        await cluster.WaitForActiveSilosAsync(3, TimeSpan.FromSeconds(30));
        var tenant = $"form{Guid.NewGuid().ToString("n")[..6]}";
        await cluster.Client.GetTenant(tenant).CreateAsync("Formation", owner: "ann");
        var key = $"{tenant}/list/shared";

        using var first = await cluster.ConnectThroughAsync(cluster.Silos[0]);
        using var third = await cluster.ConnectThroughAsync(cluster.Silos[2]);
        var viaFirst = first.Services.GetRequiredService<IClusterClient>();
        var viaThird = third.Services.GetRequiredService<IClusterClient>();
        await viaFirst.GetList(key).CreateAsync("Shared");
        await viaFirst.GetList(key).AddItemAsync(new NewItem("written through silo1"));

        var snapshot = await viaThird.GetList(key).GetAsync();
        Assert.Equal("Shared", snapshot.Title);
        Assert.Equal(["written through silo1"], snapshot.Items.Select(i => i.Title));
        await first.StopAsync();
        await third.StopAsync();
        output.WriteLine($"cluster of {cluster.Silos.Count} silos on {string.Join(", ", cluster.Silos.Select(s => s.Address))}, Redis at {cluster.Redis.ConnectionString}, TLS on");
    }

    [Fact]
    public async Task A_client_without_the_cluster_certificate_cannot_connect()
    {
        var builder = Host.CreateApplicationBuilder();
        foreach (var (k, v) in cluster.ClientSettings.Where(s => !s.Key.StartsWith("Groundwork:Tls", StringComparison.Ordinal)))
        {
            builder.Configuration[k] = v;
        }

        builder.Configuration["Groundwork:Client:ApiKey"] = cluster.OperatorKey;
        builder.Configuration["Groundwork:Client:ConnectTimeout"] = "00:00:03";
        Groundwork.Client.Hosting.GroundworkClientExtensions.UseGroundworkClient(builder);
        using var host = builder.Build();
        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await host.StartAsync();
            await host.Services.GetRequiredService<IClusterClient>().GetTenant("nobody").GetAsync().WaitAsync(TimeSpan.FromSeconds(10));
        });
        output.WriteLine($"refused after {clock.Elapsed.TotalSeconds:0.0} s");
    }
}
