using Xunit;
using System.Diagnostics;
using Groundwork.Cluster.Tests.Harness;
using Groundwork.Lists;
using Groundwork.Tenants;
using Groundwork.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Groundwork.Cluster.Tests;

/// <summary>The three-silo cluster forms over Redis and TLS, and a client reaches it through any gateway.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterTests(ClusterHarness cluster, ITestOutputHelper output)
{
    [Fact]
    public async Task Every_file_a_silo_is_given_is_readable_by_the_silos_own_user_wherever_the_checkout_lives()
    {
        // The silos run under their own user ids, as in containers. A path below a folder only its owner may enter
        // (a checkout in root's home, a mktemp -d folder) would be unreadable to them: this fails first and names it.
        var closed = new List<string>();
        foreach (var silo in cluster.Silos)
        {
            foreach (var path in silo.PathsNeeded)
            {
                if (!await silo.CanReadAsync(path))
                {
                    closed.Add($"{silo.Name} (uid {silo.UserId}) cannot read {path}");
                }
            }
        }

        Assert.True(closed.Count == 0, string.Join("\n", closed));
        Assert.Contains(cluster.Silos[0].PathsNeeded, p => p.EndsWith("Groundwork.Silo.dll", StringComparison.Ordinal));
    }

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
    public async Task A_client_without_TLS_cannot_connect_to_the_gateways()
    {
        var plain = new Dictionary<string, string?>
        {
            ["Groundwork:Tls:CertificatePath"] = null,
            ["Groundwork:Tls:KeyPath"] = null,
            ["Groundwork:Tls:CaPath"] = null,
        };
        await AssertRefusedAsync(plain);
    }

    [Fact]
    public async Task A_client_with_a_certificate_from_another_CA_cannot_connect_to_the_gateways()
    {
        var folder = Directory.CreateTempSubdirectory("gw-other-ca-").FullName;
        try
        {
            await ClusterHarness.MakeCertificatesAsync(Path.Combine(folder, "certs"), Path.Combine(folder, "ca"));
            var stranger = new Dictionary<string, string?>
            {
                ["Groundwork:Tls:CertificatePath"] = Path.Combine(folder, "certs", "node.pem"),
                ["Groundwork:Tls:KeyPath"] = Path.Combine(folder, "certs", "node.key"),
                ["Groundwork:Tls:CaPath"] = Path.Combine(folder, "certs", "ca.pem"),
            };
            await AssertRefusedAsync(stranger);

            // Trusting the cluster's CA does not help: the gateways refuse the certificate itself.
            stranger["Groundwork:Tls:CaPath"] = cluster.ClientSettings["Groundwork:Tls:CaPath"];
            await AssertRefusedAsync(stranger);

            // The control: the same client built with the cluster's own certificate connects.
            using var member = cluster.BuildClient(new Dictionary<string, string?>(), TimeSpan.FromSeconds(10));
            await member.StartAsync().WaitAsync(TimeSpan.FromSeconds(60));
            await member.StopAsync();
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private async Task AssertRefusedAsync(IReadOnlyDictionary<string, string?> changes)
    {
        using var host = cluster.BuildClient(changes, TimeSpan.FromSeconds(3));
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync().WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.IsNotType<TimeoutException>(error);
        output.WriteLine($"refused after {clock.Elapsed.TotalSeconds:0.0} s: {error.GetType().Name}: {error.Message.Split('\n')[0]}");
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
        // Each silo's resource names it as the compose file does (OTEL_RESOURCE_ATTRIBUTES), so Jaeger tells them apart.
        Assert.NotNull(host);
        Assert.Equal($"service.instance.id={host.Name}", host.Environment["OTEL_RESOURCE_ATTRIBUTES"]);
        Assert.Equal(host.Name, server.Instance);
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
