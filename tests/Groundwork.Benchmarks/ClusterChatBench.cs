using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Groundwork.Access;
using Groundwork.Chat;
using Groundwork.Client;
using Groundwork.Cluster.Tests.Harness;
using Groundwork.Tenants;
using Microsoft.Extensions.DependencyInjection;

namespace Groundwork.Benchmarks;

/// <summary>
/// One post delivered to 1,000 watchers spread over the 3 silos of the cluster harness (the processes
/// docker-compose.yml describes: Redis, TLS, 127.0.0.11-13), each watcher a member of its own with its own key, a third
/// through each gateway. Measured twice in one run: as Groundwork.Client watches by default (each client's watchers
/// of the channel share one stream from its silo's relay, each admitted and judged under its own key), and with a
/// relay stream per watcher, as 1,000 separate processes would have.
/// </summary>
internal static class ClusterChatBench
{
    private const int Watchers = 1_000;
    private const int Posts = 30;
    private const int WarmUpRound = 20;
    private const int MaxWarmUpRounds = 24;

    public static async Task<string> RunAsync()
    {
        var harness = new ClusterHarness();
        await harness.InitializeAsync();
        var hosts = new List<Microsoft.Extensions.Hosting.IHost>();
        try
        {
            var tenant = "chatbench" + Guid.NewGuid().ToString("n")[..6];
            var grains = harness.Client;
            var owner = (await grains.GetTenant(tenant).CreateAsync("Chat bench", "owner")).Key;
            var key = $"{tenant}/channel/all";
            var keys = new string[Watchers];
            using (GroundworkCredentials.Use(owner))
            {
                await grains.GetChannel(key).CreateAsync(new NewChannel("all"));
            }

            await Parallel.ForAsync(0, Watchers, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (m, _) =>
            {
                using (GroundworkCredentials.Use(owner))
                {
                    await grains.GetTenant(tenant).SetMemberAsync($"m{m}", TenantRole.Member);
                    keys[m] = (await grains.GetTenant(tenant).IssueKeyAsync($"m{m}", KeyScope.Standard)).Key;
                }

                using (GroundworkCredentials.Use(keys[m]))
                {
                    await grains.GetChannel(key).JoinAsync();
                }
            });

            foreach (var silo in harness.Silos)
            {
                hosts.Add(await harness.ConnectThroughAsync(silo));
            }

            var channelHost = (await harness.HostOfAsync(grains.GetChannel(key)))?.Name ?? "?";
            var run = new Run(harness, grains, key, owner, keys, hosts);
            var shared = await run.MeasureAsync("shared", (client, from) => client.WatchFeedAsync<ChannelChange>(key, from));
            var own = await run.MeasureAsync("a stream each", (client, from) => client.GetGrain<IFeedRelay<ChannelChange>>(key).WatchAsync(from));
            string Row(string how, Figures f) => string.Create(CultureInfo.InvariantCulture,
                $"| one post delivered to 1,000 watchers over the 3 silos of the cluster harness, {how} (1,000 members with a key each, a third through each gateway over TLS; the channel on {channelHost}; {Posts} posts 250 ms apart after {f.WarmUp} untimed ones, timed from the post to each receipt; {f.CpuPerDelivery:F0} µs of CPU per delivery in the silos and watchers together, {f.CoresBusy:F2} cores busy, {f.IdleCores:F2} of them when idle) | {f.Samples.Count:N0} | {f.Samples.Average():F2} ms mean (goal: p99 under 50 ms) | {Bench.Percentile(f.Samples, 0.5):F2} ms | {Bench.Percentile(f.Samples, 0.99):F2} ms |");
            return Row("as Groundwork.Client watches (each client's watchers share one stream from its silo's relay)", shared) + "\n" +
                   Row("with a relay stream per watcher (as 1,000 separate client processes would have)", own);
        }
        finally
        {
            foreach (var host in hosts)
            {
                await host.StopAsync();
                host.Dispose();
            }

            await harness.DisposeAsync();
        }
    }

    private sealed record Figures(List<double> Samples, int WarmUp, double CpuPerDelivery, double CoresBusy, double IdleCores);

    private sealed class Run(ClusterHarness harness, IClusterClient grains, string key, string owner, string[] keys, List<Microsoft.Extensions.Hosting.IHost> hosts)
    {
        private int _posted;

        private TimeSpan Cpu() => harness.Silos.Aggregate(TimeSpan.Zero, (sum, silo) => sum + silo.CpuTime) + Process.GetCurrentProcess().TotalProcessorTime;

        public async Task<Figures> MeasureAsync(string label, Func<IClusterClient, long, IAsyncEnumerable<ChannelChange>> watch)
        {
            long from;
            using (GroundworkCredentials.Use(owner))
            {
                from = (await grains.GetChannel(key).GetAsync()).Version;
            }

            var sentAt = new ConcurrentDictionary<long, long>();
            var latencies = new ConcurrentBag<double>();
            var slowest = new ConcurrentDictionary<long, double>();
            var ready = 0;
            var timedFrom = long.MaxValue;
            using var stop = new CancellationTokenSource();
            var allIn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var watchers = new List<Task>();
            for (var w = 0; w < Watchers; w++)
            {
                var client = hosts[w % hosts.Count].Services.GetRequiredService<IClusterClient>();
                using (GroundworkCredentials.Use(keys[w]))
                {
                    watchers.Add(Task.Run(async () =>
                    {
                        await using var feed = watch(client, from).GetAsyncEnumerator(stop.Token);
                        var first = feed.MoveNextAsync();
                        Interlocked.Increment(ref ready);
                        var seen = 0;
                        for (var moved = await first; moved; moved = seen < Posts && await feed.MoveNextAsync())
                        {
                            var received = Stopwatch.GetTimestamp();
                            if (feed.Current.Kind == ChannelChangeKind.Posted && feed.Current.Sequence >= Volatile.Read(ref timedFrom) && sentAt.TryGetValue(feed.Current.Sequence, out var sent))
                            {
                                var ms = Stopwatch.GetElapsedTime(sent, received).TotalMilliseconds;
                                latencies.Add(ms);
                                slowest.AddOrUpdate(feed.Current.Sequence, ms, (_, was) => Math.Max(was, ms));
                                seen++;
                            }
                        }

                        // Open until every watcher has the last post: closing 1,000 feeds is work of its own, which would
                        // land on the watchers still receiving it.
                        await allIn.Task;
                    }));
                }
            }

            while (Volatile.Read(ref ready) < watchers.Count)
            {
                await Task.Delay(50);
            }

            await Task.Delay(2_000); // every watch open at the relays
            long version;
            using (GroundworkCredentials.Use(owner))
            {
                version = (await grains.GetChannel(key).GetAsync()).Version;
            }

            var posted = 0;
            var postTimes = new List<double>();
            async Task PostAsync(bool timed)
            {
                // Posters take turns, so none goes past a member's rate (1 a second after a burst of 10).
                using (GroundworkCredentials.Use(keys[_posted++ % keys.Length]))
                {
                    if (timed)
                    {
                        sentAt[version + posted + 1] = Stopwatch.GetTimestamp();
                    }

                    var began = Stopwatch.GetTimestamp();
                    await grains.GetChannel(key).PostAsync(new NewMessage($"to all {posted}"));
                    if (timed)
                    {
                        postTimes.Add(Stopwatch.GetElapsedTime(began).TotalMilliseconds);
                    }
                }

                posted++;
                await Task.Delay(250);
            }

            // Untimed rounds first, until the CPU a round takes settles (the last three within 10 % of each other):
            // the silos and the watchers' process are still compiling (tiered JIT) for the first minute or so of a
            // delivery load, which a silo that has run for a while no longer does.
            var rounds = new List<double>();
            while (rounds.Count < MaxWarmUpRounds && (rounds.Count < 4 || rounds[^3..].Max() > 1.1 * rounds[^3..].Min()))
            {
                var before = Cpu();
                for (var i = 0; i < WarmUpRound; i++)
                {
                    await PostAsync(timed: false);
                }

                rounds.Add((Cpu() - before).TotalMilliseconds);
            }

            var warmUp = posted;
            Volatile.Write(ref timedFrom, version + warmUp + 1);

            // What the processes use with no post at all (timers, membership, metrics), for reading the figure below.
            var idleBefore = Cpu();
            var idleWall = Stopwatch.GetTimestamp();
            await Task.Delay(3_000);
            var idle = (Cpu() - idleBefore) / Stopwatch.GetElapsedTime(idleWall);
            Console.WriteLine($"chat delivery, {label}: timing {Posts} posts after {warmUp} untimed ones (CPU per round of {WarmUpRound}: {string.Join(", ", rounds.Select(r => r.ToString("F0", CultureInfo.InvariantCulture)))} ms)");
            var cpuBefore = Cpu();
            var wallBefore = Stopwatch.GetTimestamp();
            for (var i = 0; i < Posts; i++)
            {
                await PostAsync(timed: true);
            }

            // CPU up to the last receipt, before the watchers close their feeds.
            var expected = Watchers * Posts;
            var deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 120;
            while (latencies.Count < expected && Stopwatch.GetTimestamp() < deadline)
            {
                await Task.Delay(5);
            }

            var cpuUsed = Cpu() - cpuBefore;
            var wall = Stopwatch.GetElapsedTime(wallBefore);
            allIn.SetResult();
            await Task.WhenAll(watchers).WaitAsync(TimeSpan.FromMinutes(2));
            Console.WriteLine($"chat delivery, {label}: the last receipt of each post, ms: " + string.Join(" ", slowest.OrderBy(p => p.Key).Select(p => p.Value.ToString("F0", CultureInfo.InvariantCulture))) +
                "; each post's own call, ms: " + string.Join(" ", postTimes.Select(p => p.ToString("F0", CultureInfo.InvariantCulture))));
            if (latencies.Count < expected)
            {
                throw new InvalidOperationException($"chat delivery, {label}: {latencies.Count} of {expected} deliveries arrived.");
            }

            return new Figures([.. latencies], warmUp, cpuUsed.TotalMilliseconds * 1_000 / latencies.Count, cpuUsed / wall, idle);
        }
    }
}
