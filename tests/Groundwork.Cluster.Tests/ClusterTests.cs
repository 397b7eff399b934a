using Xunit;
using System.Diagnostics;
using Groundwork.Cluster.Tests.Harness;
using Groundwork.Lists;
using Groundwork.Tenants;
using Groundwork.Testing;
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

    [Fact]
    public async Task In_cluster_mode_a_call_is_one_trace_from_the_client_through_the_silo_to_storage()
    {
        var tenant = $"trace{Guid.NewGuid().ToString("n")[..6]}";
        await cluster.Client.GetTenant(tenant).CreateAsync("Tracing", owner: "ann");
        var list = cluster.Client.GetList($"{tenant}/list/traced");
        await list.CreateAsync("Before");
        var host = await cluster.HostOfAsync(list);

        // Renaming is called by no other cluster test, so its client span is this call's.
        await list.RenameAsync("After");

        (ReceivedSpan Client, ReceivedSpan Server, ReceivedSpan Storage)? chain = null;
        await cluster.Otlp.WaitForSpansAsync(spans => (chain = Chain(spans)) is not null, TimeSpan.FromSeconds(30));
        var (client, server, storage) = chain!.Value;
        Assert.Equal("groundwork-client", client.Service);
        Assert.Equal("groundwork-silo", server.Service);
        Assert.Equal(client.SpanId, server.ParentSpanId);
        Assert.Equal(server.TraceId, storage.TraceId);
        output.WriteLine($"trace {client.TraceId}: {client.Name} (client) -> {server.Name} (silo, hosted on {host?.Name}) -> {storage.Name}");
    }

    private static (ReceivedSpan Client, ReceivedSpan Server, ReceivedSpan Storage)? Chain(IReadOnlyList<ReceivedSpan> spans)
    {
        foreach (var client in spans.Where(s => s.Kind == 3 && s.Name.EndsWith("/RenameAsync", StringComparison.Ordinal)))
        {
            var trace = spans.Where(s => s.TraceId == client.TraceId).ToList();
            var server = trace.FirstOrDefault(s => s.Kind == 2 && s.ParentSpanId == client.SpanId);
            if (server is null)
            {
                continue;
            }

            // The storage span descends from the grain call (directly or through Orleans' own spans).
            var byId = trace.ToDictionary(s => s.SpanId);
            var storage = trace.FirstOrDefault(s => s.Name.Contains("storage", StringComparison.OrdinalIgnoreCase) && DescendsFrom(s, server.SpanId, byId));
            if (storage is not null)
            {
                return (client, server, storage);
            }
        }

        return null;
    }

    private static bool DescendsFrom(ReceivedSpan span, string ancestor, Dictionary<string, ReceivedSpan> byId)
    {
        for (var current = span; current is not null; current = byId.GetValueOrDefault(current.ParentSpanId))
        {
            if (current.ParentSpanId == ancestor)
            {
                return true;
            }
        }

        return false;
    }
}
