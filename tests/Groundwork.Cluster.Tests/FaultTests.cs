using System.Diagnostics;
using System.Globalization;
using Groundwork.Cluster.Tests.Harness;
using Groundwork.Lists;
using Xunit;
using Xunit.Abstractions;

namespace Groundwork.Cluster.Tests;

/// <summary>
/// Faults under a sustained write load, on the real three-silo cluster: every acknowledged write must be there at
/// the end, none applied twice. Each test leaves the cluster with all three silos active.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class FaultTests(ClusterHarness cluster, ITestOutputHelper output)
{
    private static readonly TimeSpan FailoverLimit = TimeSpan.FromSeconds(5);

    [Fact]
    [Trait("Category", "Slo")]
    public async Task Killing_the_silo_hosting_the_busiest_grains_loses_no_acknowledged_write_and_its_grains_answer_elsewhere_within_5_s()
    {
        await cluster.WaitForActiveSilosAsync(3, TimeSpan.FromSeconds(60));
        await using var load = await WriteLoad.StartAsync(cluster.Client, "kill");
        await load.WaitForProgressAsync(each: 5, TimeSpan.FromSeconds(30));

        // The busiest silo: the one hosting most of the written lists.
        var hosts = new Dictionary<string, ClusterSilo>();
        foreach (var list in load.Lists)
        {
            hosts[list] = await cluster.HostOfAsync(cluster.Client.GetList(list)) ?? throw new InvalidOperationException($"{list} has no activation");
        }

        var victim = hosts.Values.GroupBy(s => s.Name).OrderByDescending(g => g.Count()).First().First();
        var victimLists = hosts.Where(h => h.Value == victim).Select(h => h.Key).ToList();
        output.WriteLine($"{victim.Name} hosts {victimLists.Count} of {load.Lists.Count} lists; killing it with SIGKILL");

        var clock = Stopwatch.StartNew();
        await victim.KillAsync();
        var failover = await FirstSuccessfulCallAsync(victimLists[0], TimeSpan.FromSeconds(30));
        output.WriteLine($"first successful call to {victimLists[0]} (lived on {victim.Name}) {failover.TotalSeconds:0.00} s after the kill");

        await load.WaitForProgressAsync(each: 5, TimeSpan.FromSeconds(30));
        await cluster.RestoreAsync(victim);
        await load.WaitForProgressAsync(each: 3, TimeSpan.FromSeconds(30));
        await load.StopAsync();

        var (writes, problems) = await load.VerifyAsync();
        output.WriteLine(ReliabilityReport.Record("1. kill -9 the busiest silo", load, writes,
            string.Create(CultureInfo.InvariantCulture, $"failover {failover.TotalSeconds:0.00} s ({victimLists.Count} lists lived there)")));
        Assert.Empty(problems);
        Assert.True(writes > 0);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"SLO failover < {FailoverLimit.TotalSeconds} s: margin {(FailoverLimit - failover).TotalSeconds:0.00} s"));
        Assert.True(failover < FailoverLimit, $"failover took {failover.TotalSeconds:0.00} s, more than {FailoverLimit.TotalSeconds} s.\n{cluster.Logs()}");
    }

    [Fact]
    [Trait("Category", "Slo")]
    public async Task Restarting_Redis_under_load_gives_a_clear_storage_error_then_recovers_by_itself_and_loses_nothing()
    {
        await cluster.WaitForActiveSilosAsync(3, TimeSpan.FromSeconds(60));
        await using var load = await WriteLoad.StartAsync(cluster.Client, "redis");
        await load.WaitForProgressAsync(each: 5, TimeSpan.FromSeconds(30));

        var clock = Stopwatch.StartNew();
        await cluster.Redis.KillAsync();
        // While Redis is down, a mutation must fail with our typed error, well before the 30 s response timeout.
        var down = await CallWhileDownAsync(load.Lists[0]);
        output.WriteLine($"while Redis was down: {down.Error} after {down.Seconds:0.00} s");
        await cluster.Redis.RestartAsync();
        var downFor = clock.Elapsed;

        var recovery = Stopwatch.StartNew();
        await load.WaitForProgressAsync(each: 3, TimeSpan.FromSeconds(60));
        var recovered = recovery.Elapsed;
        await load.StopAsync();

        var (writes, problems) = await load.VerifyAsync();
        output.WriteLine(ReliabilityReport.Record("2. restart Redis (SIGKILL, AOF always)", load, writes,
            string.Create(CultureInfo.InvariantCulture, $"down {downFor.TotalSeconds:0.0} s; error while down: {down.Error} after {down.Seconds:0.00} s; every list writing again {recovered.TotalSeconds:0.0} s after restart")));
        Assert.Empty(problems);
        Assert.Equal(nameof(StorageUnavailableException), down.Error);
        // The caller learns the kind of failure; Redis's own message (its address, the grain's storage key) stays in the silo log.
        Assert.DoesNotContain(cluster.Redis.ConnectionString, down.Message, StringComparison.Ordinal);
        Assert.Matches(@"\((read|write)\): (not reachable|timed out|loading its data)\.", down.Message);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"SLO a clear error within 10 s of Redis going down: margin {10 - down.Seconds:0.00} s"));
        Assert.True(down.Seconds < 10, $"the call failed only after {down.Seconds:0.00} s");
        await cluster.WaitForActiveSilosAsync(3, TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task Cutting_one_silo_off_from_the_others_loses_no_update_and_it_comes_back_after_healing()
    {
        await cluster.WaitForActiveSilosAsync(3, TimeSpan.FromSeconds(60));
        await using var load = await WriteLoad.StartAsync(cluster.Client, "cut");
        await load.WaitForProgressAsync(each: 5, TimeSpan.FromSeconds(30));

        var isolated = cluster.Silos[^1];
        var others = cluster.Silos.Where(s => s != isolated).ToList();
        var siloPort = int.Parse(isolated.Environment["Orleans__Endpoints__SiloPort"], CultureInfo.InvariantCulture);
        output.WriteLine($"cutting {isolated.Name} off from {string.Join(", ", others.Select(o => o.Name))}");
        var clock = Stopwatch.StartNew();
        await Partition.CutAsync(isolated, others, siloPort);
        try
        {
            // The majority declares the cut-off silo dead; it learns so from the membership table and stops.
            await cluster.WaitForActiveSilosAsync(2, TimeSpan.FromSeconds(30));
            var declaredDead = clock.Elapsed;
            await load.WaitForProgressAsync(each: 5, TimeSpan.FromSeconds(45));
            var stoppedByItself = await isolated.WaitForExitAsync(TimeSpan.FromSeconds(30));
            output.WriteLine($"{isolated.Name} declared dead after {declaredDead.TotalSeconds:0.0} s; stopped by itself: {stoppedByItself} (exit {isolated.ExitCode})");
            // The cut-off silo learns from Redis (which it still reaches) that it was declared dead, and fails fast.
            Assert.True(stoppedByItself, $"{isolated.Name} kept running 30 s after it was declared dead:\n{isolated.Tail()}");
            Assert.Equal(134, isolated.ExitCode);
        }
        finally
        {
            await Partition.HealAllAsync();
        }

        var healed = Stopwatch.StartNew();
        if (isolated.Running)
        {
            // Still running after healing: a silo declared dead cannot rejoin under the same generation; restart it.
            await isolated.StopAsync(TimeSpan.FromSeconds(40));
        }

        await cluster.RestoreAsync(isolated);
        var rejoined = healed.Elapsed;
        await load.WaitForProgressAsync(each: 3, TimeSpan.FromSeconds(30));
        await load.StopAsync();

        var (writes, problems) = await load.VerifyAsync();
        output.WriteLine(ReliabilityReport.Record("3. cut one silo off (iptables), heal", load, writes,
            string.Create(CultureInfo.InvariantCulture, $"cut {clock.Elapsed.TotalSeconds - rejoined.TotalSeconds:0.0} s; back in the cluster {rejoined.TotalSeconds:0.0} s after healing")));
        Assert.Empty(problems);
        Assert.True(writes > 0);
    }

    [Fact]
    public async Task A_rolling_restart_with_SIGTERM_under_load_fails_no_request()
    {
        await cluster.WaitForActiveSilosAsync(3, TimeSpan.FromSeconds(60));
        await using var load = await WriteLoad.StartAsync(cluster.Client, "roll");
        await load.WaitForProgressAsync(each: 5, TimeSpan.FromSeconds(30));

        var clock = Stopwatch.StartNew();
        var exits = new List<int>();
        foreach (var silo in cluster.Silos)
        {
            exits.Add(await silo.StopAsync(TimeSpan.FromSeconds(45)));
            await cluster.RestoreAsync(silo);
            await load.WaitForProgressAsync(each: 2, TimeSpan.FromSeconds(30));
        }

        var rolled = clock.Elapsed;
        await load.StopAsync();
        var (writes, problems) = await load.VerifyAsync();
        output.WriteLine(ReliabilityReport.Record("4. rolling restart, SIGTERM one at a time", load, writes,
            string.Create(CultureInfo.InvariantCulture, $"3 silos restarted in {rolled.TotalSeconds:0.0} s, exit codes {string.Join("/", exits)}")));
        Assert.Empty(problems);
        Assert.All(exits, code => Assert.Equal(0, code));
        Assert.Equal(0, load.FailedRequests);
    }

    private async Task<TimeSpan> FirstSuccessfulCallAsync(string list, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            try
            {
                await cluster.Client.GetList(list).GetAsync().WaitAsync(TimeSpan.FromSeconds(1));
                return clock.Elapsed;
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                // Not yet elsewhere; the clock keeps running.
            }
        }

        throw new TimeoutException($"{list} did not answer within {timeout} of the kill.\n{cluster.Logs()}");
    }

    private async Task<(string Error, double Seconds, string Message)> CallWhileDownAsync(string list)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            await cluster.Client.GetList(list).AddItemAsync(new NewItem("while redis is down"),
                options: new MutationOptions(OperationId: "down-" + Guid.NewGuid().ToString("n"))).WaitAsync(TimeSpan.FromSeconds(40));
            return ("none (the call succeeded)", clock.Elapsed.TotalSeconds, "");
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            output.WriteLine($"the call while Redis was down failed with: {exception.GetType().Name}: {exception.Message.Split('\n')[0]}");
            return (exception.GetType().Name, clock.Elapsed.TotalSeconds, exception.Message);
        }
    }
}
