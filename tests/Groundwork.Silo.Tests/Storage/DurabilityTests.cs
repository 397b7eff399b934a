using System.Collections.Concurrent;
using Groundwork.Lists;
using Groundwork.Tenants;
using Groundwork.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Groundwork.Silo.Tests.Storage;

/// <summary>Group commit acknowledges a write only once it is durable: a crash right after loses none of them.</summary>
public sealed class DurabilityTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Writes_acknowledged_by_many_lists_survive_a_kill_9_of_the_silo()
    {
        var folder = Path.Combine(Path.GetTempPath(), "groundwork-silo-tests", Guid.NewGuid().ToString("n"));
        var silo = SiloProcess.Start(folder);
        var gateway = silo.GatewayPort;
        var http = silo.HttpPort;
        await silo.WaitReadyAsync(TimeSpan.FromSeconds(60));
        var tenantId = "t-" + Guid.NewGuid().ToString("n")[..8];
        string ownerKey;
        await using (var operatorClient = await GroundworkClientHost.ConnectAsync(gateway, silo.OperatorKey))
        {
            ownerKey = (await operatorClient.Client.GetTenant(tenantId).CreateAsync("Durable", "ann")).Key;
        }

        const int lists = 48;
        var acknowledged = new ConcurrentDictionary<string, ConcurrentBag<string>>();
        await using (var app = await GroundworkClientHost.ConnectAsync(gateway, ownerKey))
        {
            var keys = Enumerable.Range(0, lists).Select(i => $"{tenantId}/list/l{i}").ToArray();
            await Task.WhenAll(keys.Select(k => app.Client.GetList(k).CreateAsync(k)));

            // Every list writes as fast as it is answered; the silo is killed while writes are in flight.
            using var stop = new CancellationTokenSource();
            var writers = keys.Select(key => Task.Run(async () =>
            {
                var list = app.Client.GetList(key);
                var done = acknowledged.GetOrAdd(key, _ => []);
                for (var n = 0; !stop.IsCancellationRequested; n++)
                {
                    try
                    {
                        var result = await list.AddItemAsync(new NewItem($"item {n}"), options: new MutationOptions(OperationId: $"{key}-{n}"));
                        done.Add(result.Id!);
                    }
                    catch (Exception) when (stop.IsCancellationRequested)
                    {
                        return;
                    }
                    catch (Exception)
                    {
                        // The silo is gone: what was acknowledged before is what counts.
                        return;
                    }
                }
            })).ToArray();

            while (acknowledged.Values.Sum(b => b.Count) < 2_000)
            {
                await Task.Delay(20);
            }

            await silo.KillAsync();
            stop.Cancel();
            await Task.WhenAll(writers);
        }

        var total = acknowledged.Values.Sum(b => b.Count);
        output.WriteLine($"{total} writes acknowledged by {lists} lists before kill -9");
        await using var restarted = SiloProcess.Start(folder, httpPort: http, gatewayPort: gateway);
        await restarted.WaitReadyAsync(TimeSpan.FromSeconds(60));
        await using var reader = await GroundworkClientHost.ConnectAsync(gateway, ownerKey);
        var missing = new List<string>();
        foreach (var (key, ids) in acknowledged)
        {
            var stored = (await reader.Client.GetList(key).GetAsync()).Items.Select(i => i.Id).ToHashSet();
            missing.AddRange(ids.Where(id => !stored.Contains(id)).Select(id => $"{key}:{id}"));
        }

        Assert.True(missing.Count == 0, $"{missing.Count} of {total} acknowledged writes were lost: {string.Join(", ", missing.Take(10))}");
        await silo.DisposeAsync();
    }
}
