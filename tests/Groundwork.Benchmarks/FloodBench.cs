using System.Diagnostics;
using System.Globalization;
using Groundwork.Lists;
using Groundwork.Testing;

namespace Groundwork.Benchmarks;

/// <summary>
/// A flood of refused calls from one connection against the real silo process, and what it does to another tenant's
/// reads through another connection: the same reads measured alone and during the flood, in one run.
/// </summary>
internal static class FloodBench
{
    private const int Readers = 4;
    private const int ReadsPerReader = 3_000;
    private const int FloodCalls = 20_000;
    private const int FloodInFlight = 64;

    public static async Task<IReadOnlyList<string>> RunAsync() =>
        [.. await RunAsync(budget: true), .. await RunAsync(budget: false)];

    private static async Task<IReadOnlyList<string>> RunAsync(bool budget)
    {
        await using var silo = SiloProcess.Start(environment: budget
            ? null
            : new Dictionary<string, string> { ["Groundwork__Messages__RefusalsPerSecond"] = "0" });
        await silo.WaitReadyAsync(TimeSpan.FromSeconds(60));
        await using var setup = await RawClient.ConnectAsync(silo.GatewayPort);
        var (tenant, owner) = await Bench.NewTenantAsync(silo, setup);

        await using var legit = await GroundworkClientHost.ConnectAsync(silo.GatewayPort, owner);
        var lists = new List<IListGrain>();
        for (var i = 0; i < Readers; i++)
        {
            var list = legit.Client.GetGrain<IListGrain>($"{tenant}/list/read-{i}");
            await list.CreateAsync($"Read {i}");
            await list.AddItemAsync(new NewItem("an item"));
            lists.Add(list);
        }

        await ReadAllAsync(lists, 200); // warm-up
        var alone = await ReadAllAsync(lists, ReadsPerReader);

        await using var attacker = await RawClient.ConnectAsync(silo.GatewayPort);
        using var readsDone = new CancellationTokenSource();
        var flooding = Stopwatch.StartNew();
        var flood = FloodAsync(attacker, readsDone.Token);
        var during = await ReadAllAsync(lists, ReadsPerReader);
        var window = flooding.Elapsed;
        await readsDone.CancelAsync();
        var refused = await flood;

        var activations = await RawClient.WithKeyAsync(silo.OperatorKey, () => setup.Client.GetGrain<IManagementGrain>(0).GetSimpleGrainStatistics());
        var left = activations.Where(s => s.GrainType.Contains("TenantGrain", StringComparison.Ordinal) || s.GrainType.Contains("ListGrain", StringComparison.Ordinal))
            .Sum(s => s.ActivationCount);

        var p99Alone = Bench.Percentile(alone, 0.99);
        var p99During = Bench.Percentile(during, 0.99);
        var setting = budget ? "refusal budget on (default: 50/s after a burst of 100)" : "refusal budget off (RefusalsPerSecond=0)";
        return
        [
            Bench.Row($"{setting}: another tenant's read, {Readers} callers, no flood", alone),
            Bench.Row($"{setting}: the same reads while one connection floods refused calls", during),
            string.Create(CultureInfo.InvariantCulture,
                $"| {setting}: the flood ({FloodInFlight} in flight, random tenants' keys and malformed list keys, sent until the reads ended) | {refused:N0} | {refused / window.TotalSeconds:N0} refusals/s over the {window.TotalSeconds:F1} s of the reads; p99 of the reads **{p99During / p99Alone:F2}x** alone; {left} tenant and list activations left afterwards (the bench's own {Readers} lists and 1 tenant included) | | |"),
        ];
    }

    private static async Task<List<double>> ReadAllAsync(List<IListGrain> lists, int perReader)
    {
        var samples = new List<double>[lists.Count];
        await Task.WhenAll(lists.Select(async (list, n) =>
        {
            var mine = samples[n] = new List<double>(perReader);
            for (var i = 0; i < perReader; i++)
            {
                var started = Stopwatch.GetTimestamp();
                await list.GetAsync();
                mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }));
        return [.. samples.SelectMany(s => s)];
    }

    private static async Task<int> FloodAsync(RawClient attacker, CancellationToken stop)
    {
        var refused = 0;
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, FloodInFlight).Select(async _ =>
        {
            int i;
            while (!stop.IsCancellationRequested && (i = Interlocked.Increment(ref next)) < FloodCalls)
            {
                var call = i % 2 == 0
                    ? RawClient.WithKeyAsync($"gwk_nobody{i}_{new string('0', 12)}_{new string('0', 64)}",
                        () => attacker.Client.GetGrain<IListGrain>($"nobody{i}/list/x").GetAsync())
                    : RawClient.WithKeyAsync("not a key", () => attacker.Client.GetGrain<IListGrain>($"Bad Key {i}").GetAsync());
                try
                {
                    await call;
                }
                catch (GroundworkException)
                {
                    Interlocked.Increment(ref refused);
                }
            }
        }));
        return refused;
    }
}
