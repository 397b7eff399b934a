using System.Globalization;
using Groundwork.Benchmarks.BareSilo;
using Groundwork.Lists;
using Groundwork.Tenants;
using Groundwork.Testing;

namespace Groundwork.Benchmarks;

/// <summary>
/// Managed heap per idle activation: a list (empty, and with 3 items) against a bare Orleans grain holding nothing,
/// both in the same silo and measured the same way, in two passes. Every grain is deactivated first; then the live heap after a full
/// compacting collection, the grains activated by one call each, and the live heap again: the growth per grain.
/// </summary>
internal static class MemoryBench
{
    private const int Grains = 5_000;

    public static async Task<List<string>> RunAsync(ClusterFixture fixture, TestTenant tenant)
    {
        // Made first, then deactivated by each measurement: what is measured is reading them back.
        var empty = Enumerable.Range(0, Grains).Select(_ => tenant.ListKey()).ToArray();
        var three = Enumerable.Range(0, Grains).Select(_ => tenant.ListKey()).ToArray();
        await ForEachAsync(Grains, i => fixture.Client.GetList(empty[i]).CreateAsync($"empty {i}"));
        await ForEachAsync(Grains, async i =>
        {
            var list = fixture.Client.GetList(three[i]);
            await list.CreateAsync($"three {i}");
            for (var item = 0; item < 3; item++)
            {
                await list.AddItemAsync(new NewItem($"item {item}"));
            }
        });

        // Two passes, each kind's smaller growth reported: the first pass also grows the runtime's own tables (the
        // activation directory and its caches keep their capacity after the grains deactivate), whichever kind it
        // happens to be measuring at the time.
        double bare = double.MaxValue, emptyList = double.MaxValue, threeItems = double.MaxValue;
        for (var pass = 0; pass < 2; pass++)
        {
            // The access filter lets only the operator call a grain outside the contract.
            using (ClusterFixture.As(fixture.OperatorKey))
            {
                bare = Math.Min(bare, await PerActivationAsync(fixture, tenant, i => fixture.Client.GetGrain<IBareListGrain>($"bare-{i}").PingAsync()));
            }

            emptyList = Math.Min(emptyList, await PerActivationAsync(fixture, tenant, i => fixture.Client.GetList(empty[i]).GetAsync()));
            threeItems = Math.Min(threeItems, await PerActivationAsync(fixture, tenant, i => fixture.Client.GetList(three[i]).GetAsync()));
        }

        return
        [
            Row("bare Orleans grain holding nothing (the floor)", bare, bare, null),
            Row("empty list", emptyList, bare, 1.5),
            Row("list of 3 items", threeItems, bare, 2.0),
        ];
    }

    private static string Row(string what, double bytes, double floor, double? goal) => string.Create(CultureInfo.InvariantCulture,
        $"| managed heap per idle activation: {what}, after a full collection | {Grains:N0} | **{bytes:N0} bytes**{(goal is null ? "" : $", {bytes / floor:F2}x the bare grain (goal at most {goal:F1}x)")} | | |");

    /// <summary>Deactivates every grain, then the live heap's growth per grain while <see cref="Grains"/> of them activate.</summary>
    private static async Task<double> PerActivationAsync(ClusterFixture fixture, TestTenant tenant, Func<int, Task> activate)
    {
        await DeactivateAllAsync(fixture);

        // The tenant's grains first: a list activation may call its directory (a list never written since its
        // creation records itself again), whose entries for every list of the tenant are not the list's own memory.
        using (ClusterFixture.As(tenant.OwnerKey))
        {
            await fixture.Client.GetTenantDirectory(tenant.Id).ListAsync();
        }

        var before = LiveHeap();
        await Pause("before");
        await ForEachAsync(Grains, activate);
        var after = LiveHeap();
        await Pause("after");
        return (after - before) / (double)Grains;
    }

    private static async Task DeactivateAllAsync(ClusterFixture fixture)
    {
        using (ClusterFixture.As(fixture.OperatorKey))
        {
            var management = fixture.Client.GetGrain<IManagementGrain>(0);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (true)
            {
                await management.ForceActivationCollection(TimeSpan.Zero);
                var active = (await management.GetSimpleGrainStatistics())
                    .Where(s => s.GrainType.Contains("ListGrain", StringComparison.Ordinal))  // both kinds
                    .Sum(s => s.ActivationCount);
                if (active == 0)
                {
                    return;
                }

                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"{active} list activations still active after a minute of forced collection");
                }

                await Task.Delay(100);
            }
        }
    }

    /// <summary>
    /// With <c>GROUNDWORK_BENCH_DUMP</c> set to a file path: prints <c>DUMP {what} {pid}</c> and waits until that file
    /// exists (then deletes it), so that a heap dump can be taken before and after each activation, for example with
    /// <c>dotnet-gcdump collect -p {pid}</c>.
    /// </summary>
    private static async Task Pause(string what)
    {
        if (Environment.GetEnvironmentVariable("GROUNDWORK_BENCH_DUMP") is not { Length: > 0 } go)
        {
            return;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"DUMP {what} {Environment.ProcessId}"));
        while (!File.Exists(go))
        {
            await Task.Delay(100);
        }

        File.Delete(go);
    }

    private static long LiveHeap()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }

        return GC.GetTotalMemory(forceFullCollection: false);
    }

    private static Task ForEachAsync(int count, Func<int, Task> body) =>
        Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (i, _) => await body(i));
}
