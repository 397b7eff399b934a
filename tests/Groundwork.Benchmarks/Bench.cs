using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Groundwork.Client;
using Groundwork.Lists;
using Groundwork.Testing;

namespace Groundwork.Benchmarks;

/// <summary>The in-process cluster of the tests (one fixture, SQLite on a real file, the access filter on).</summary>
internal sealed class BenchFixture : IAsyncDisposable
{
    // Default limits (10,000 items per list), one silo: what `dotnet run --project silo/Groundwork.Silo` gives.
    public ClusterFixture Cluster { get; } = ClusterFixture.Create(new Dictionary<string, string?>(), 1);

    public Task StartAsync() => Cluster.InitializeAsync();

    public async ValueTask DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>The measurements. Each prints what it did, how many times, and percentiles of what it measured.</summary>
internal static class Bench
{
    public static async Task<string> RunAsync(BenchFixture bench)
    {
        var fixture = bench.Cluster;
        var tenant = await fixture.NewTenantAsync();
        var rows = new List<string>();
        using (GroundworkCredentials.Use(tenant.OwnerKey))
        {
            // Warm up: first activation, first verification, JIT.
            var warm = fixture.Client.GetList(tenant.ListKey());
            await warm.CreateAsync("warm-up");
            for (var i = 0; i < 200; i++)
            {
                await warm.AddItemAsync(new NewItem($"w{i}"));
            }

            var list = fixture.Client.GetList(tenant.ListKey());
            await list.CreateAsync("Bench");
            rows.Add(Row("add item, list of 0-1,000 items", await TimeEachAsync(1_000, i => list.AddItemAsync(new NewItem($"item {i}")))));
            rows.Add(Row("get snapshot, list of 1,000 items", await TimeEachAsync(500, _ => list.GetAsync())));

            var filler = Stopwatch.StartNew();
            for (var i = 1_000; i < 9_000; i++)
            {
                await list.AddItemAsync(new NewItem($"item {i}"));
            }

            rows.Add($"| fill from 1,000 to 9,000 items (8,000 adds, sequential) | 1 | {filler.Elapsed.TotalSeconds:F1} s in all, {filler.Elapsed.TotalMilliseconds / 8_000:F2} ms per add | | |");
            rows.Add(Row("add item, list of 9,000-10,000 items", await TimeEachAsync(1_000, i => list.AddItemAsync(new NewItem($"item {9_000 + i}")))));
            rows.Add(Row("get snapshot, list of 10,000 items", await TimeEachAsync(200, _ => list.GetAsync())));

            var small = fixture.Client.GetList(tenant.ListKey());
            await small.CreateAsync("Small");
            rows.Add(Row("get snapshot, empty list (access check + call)", await TimeEachAsync(2_000, _ => small.GetAsync())));

            rows.Add(await ThroughputAsync(fixture, tenant, callers: 64, perCaller: 100));
        }

        var flood = await FloodBench.RunAsync();
        return Report(rows, flood);
    }

    private static async Task<List<double>> TimeEachAsync<T>(int count, Func<int, Task<T>> call)
    {
        var samples = new List<double>(count);
        for (var i = 0; i < count; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await call(i);
            samples.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        return samples;
    }

    private static async Task<string> ThroughputAsync(ClusterFixture fixture, TestTenant tenant, int callers, int perCaller)
    {
        var lists = new List<IListGrain>();
        for (var i = 0; i < callers; i++)
        {
            var list = fixture.Client.GetList(tenant.ListKey());
            await list.CreateAsync($"Parallel {i}");
            lists.Add(list);
        }

        var started = Stopwatch.StartNew();
        await Task.WhenAll(lists.Select(async list =>
        {
            for (var i = 0; i < perCaller; i++)
            {
                await list.AddItemAsync(new NewItem($"p{i}"), options: new MutationOptions(OperationId: $"op-{i}"));
            }
        }));
        var seconds = started.Elapsed.TotalSeconds;
        var total = callers * perCaller;
        return $"| add item with operation id, {callers} lists written in parallel | {total:N0} | {total / seconds:N0} mutations/s ({seconds:F2} s) | | |";
    }

    private static string Row(string what, List<double> samples)
    {
        samples.Sort();
        double P(double q) => samples[Math.Min(samples.Count - 1, (int)Math.Ceiling(q * samples.Count) - 1)];
        return string.Create(CultureInfo.InvariantCulture,
            $"| {what} | {samples.Count:N0} | {samples.Average():F2} ms mean | {P(0.5):F2} ms | {P(0.99):F2} ms |");
    }

    private static string Report(List<string> rows, IReadOnlyList<string> flood)
    {
        var text = new StringBuilder();
        text.AppendLine("# Benchmarks");
        text.AppendLine();
        text.AppendLine("Written by `dotnet run -c Release --project tests/Groundwork.Benchmarks` (re-run it to refresh this page).");
        text.AppendLine("One silo with the real access filter and the SQLite grain storage on a real file (WAL, FULL synchronous),");
        text.AppendLine("hosted by Orleans' in-process test cluster: the client is in the same process and reaches the silo over the");
        text.AppendLine("test cluster's in-memory transport, so these figures leave out the network and socket cost of a real");
        text.AppendLine("gateway. Every call carries a tenant owner's key and passes the access check. Latencies are per call as the");
        text.AppendLine("client sees it, sequential unless the row says parallel.");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Measured {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC on {Machine()}.");
        text.AppendLine();
        text.AppendLine("| What | Calls | Result | p50 | p99 |");
        text.AppendLine("|---|---|---|---|---|");
        foreach (var row in rows)
        {
            text.AppendLine(row);
        }

        text.AppendLine();
        text.AppendLine("A list's whole state (items, retained feed, operation ids) is written on every mutation, so the cost of a");
        text.AppendLine("mutation grows with the list: compare the two \"add item\" rows. That is the price of writing the items, the");
        text.AppendLine("change record and the operation id atomically in one row; see docs/architecture.md (bounded state).");
        text.AppendLine();
        text.AppendLine("## Refused calls under a flood");
        text.AppendLine();
        text.AppendLine("The real silo process on its embedded default (`SiloProcess`, as the README runs it), reached over its");
        text.AppendLine("gateway on loopback: one tenant's reads through Groundwork.Client on one connection, measured alone and");
        text.AppendLine("then while a raw Orleans client on another connection sends calls that are all refused. The goal is the");
        text.AppendLine("reads' p99 during the flood within 2x of alone. Silo, reader and attacker share this machine's cores.");
        text.AppendLine();
        text.AppendLine("| What | Calls | Result | p50 | p99 |");
        text.AppendLine("|---|---|---|---|---|");
        foreach (var row in flood)
        {
            text.AppendLine(row);
        }

        return text.ToString();
    }

    private static string Machine()
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        var memoryKb = File.Exists("/proc/meminfo")
            ? File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal", StringComparison.Ordinal))?.Split(':', 2)[1].Trim().Split(' ')[0]
            : null;
        var memory = long.TryParse(memoryKb, CultureInfo.InvariantCulture, out var kb) ? $"{kb / 1024.0 / 1024.0:F1} GiB" : null;
        return string.Create(CultureInfo.InvariantCulture,
            $"{cpu ?? RuntimeInformation.ProcessArchitecture.ToString()}, {Environment.ProcessorCount} cores, {memory ?? "unknown"} memory, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}");
    }

    public static string RepositoryRoot()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "Runtime.sln")))
        {
            folder = folder.Parent;
        }

        return folder?.FullName ?? Directory.GetCurrentDirectory();
    }
}
