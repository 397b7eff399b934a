using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using Groundwork.Lists;
using Groundwork.Testing;

namespace Groundwork.Benchmarks;

/// <summary>One round of parallel writes: what it did and what the machine did meanwhile.</summary>
public sealed record WriteRound(int Mutations, double Seconds, double CpuSeconds, double StolenSeconds, double JitSeconds, double[] Latencies)
{
    /// <summary>Acknowledged mutations per second.</summary>
    public double Rate => Mutations / Seconds;

    /// <summary>The share of the round's time the JIT spent compiling.</summary>
    public double JitShare => JitSeconds / Seconds;
}

/// <summary>
/// Parallel durable writes of lists, as the benchmark program measures them. Kept to what the Lists contract had
/// before the kit (create, add with an operation id), so that <c>against.sh</c> can build this file on an earlier
/// commit and time both the same way.
/// </summary>
public static class ParallelWrites
{
    /// <summary>Timed rounds of parallel writes per figure; the figure is their median.</summary>
    public const int TimedRounds = 3;

    /// <summary>
    /// Untimed rounds of 64 lists written 200 times each, until the JIT is done with the write path: a round in which
    /// compiling took under 2 % of its time, at most 20 rounds. In a fresh process the first rounds spend most of their
    /// time compiling (1.0-1.9 s of JIT in each 2 s round here), so rounds that merely agree can both still be warming up.
    /// </summary>
    public static async Task<List<WriteRound>> WarmUpAsync(ClusterFixture fixture, TestTenant tenant)
    {
        var rounds = new List<WriteRound>();
        while (rounds.Count < 20 && (rounds.Count == 0 || rounds[^1].JitShare >= 0.02))
        {
            rounds.Add(await RoundAsync(fixture, tenant, 64, perCaller: 200));
        }

        return rounds;
    }

    /// <summary><paramref name="callers"/> new lists, each written by its own caller <paramref name="perCaller"/> times in a row, all at once.</summary>
    public static async Task<WriteRound> RoundAsync(ClusterFixture fixture, TestTenant tenant, int callers, int perCaller)
    {
        ArgumentNullException.ThrowIfNull(fixture);
        ArgumentNullException.ThrowIfNull(tenant);
        var lists = new List<IListGrain>();
        for (var i = 0; i < callers; i++)
        {
            var list = fixture.Client.GetList(tenant.ListKey());
            await list.CreateAsync($"Parallel {i}");
            lists.Add(list);
        }

        var latencies = new double[callers * perCaller];
        var stolenBefore = StolenSeconds();
        var jitBefore = JitInfo.GetCompilationTime();
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var started = Stopwatch.StartNew();
        await Task.WhenAll(lists.Select(async (list, caller) =>
        {
            for (var i = 0; i < perCaller; i++)
            {
                var sent = Stopwatch.GetTimestamp();
                await list.AddItemAsync(new NewItem($"p{i}"), options: new MutationOptions(OperationId: $"op-{i}"));
                latencies[(caller * perCaller) + i] = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
            }
        }));
        var seconds = started.Elapsed.TotalSeconds;
        return new WriteRound(callers * perCaller, seconds, (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds,
            StolenSeconds() - stolenBefore, (JitInfo.GetCompilationTime() - jitBefore).TotalSeconds, latencies);
    }

    /// <summary>The median round's rate.</summary>
    public static double MedianRate(IReadOnlyList<WriteRound> rounds)
    {
        ArgumentNullException.ThrowIfNull(rounds);
        var rates = rounds.Select(r => r.Rate).Order().ToList();
        return rates[rates.Count / 2];
    }

    /// <summary>CPU time the hypervisor gave other guests (steal, from /proc/stat), in seconds; 0 where unknown.</summary>
    public static double StolenSeconds()
    {
        var cpu = File.Exists("/proc/stat") ? File.ReadLines("/proc/stat").FirstOrDefault(l => l.StartsWith("cpu ", StringComparison.Ordinal)) : null;
        var fields = cpu?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields is { Length: > 8 } && long.TryParse(fields[8], CultureInfo.InvariantCulture, out var ticks) ? ticks / 100.0 : 0;
    }
}
