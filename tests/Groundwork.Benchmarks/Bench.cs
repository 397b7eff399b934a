using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Groundwork.Client;
using Groundwork.Lists;
using Groundwork.Tenants;
using Groundwork.Testing;

namespace Groundwork.Benchmarks;

/// <summary>The in-process cluster of the tests (one fixture, SQLite on a real file, the access filter on).</summary>
internal sealed class BenchFixture : IAsyncDisposable
{
    // Default limits (10,000 items per list), one silo: what `dotnet run --project silo/Groundwork.Silo` gives; but a
    // chat member may post as fast as the benchmark does (the default is 1 a second), and one key may hold the
    // 1,000 watchers of the delivery measurement.
    public ClusterFixture Cluster { get; } = ClusterFixture.Create(new Dictionary<string, string?>
    {
        ["Groundwork:Chat:PostBurst"] = "1000000",
        ["Groundwork:Chat:PostRate"] = "1000000",
        ["Groundwork:Access:MaxWatchersPerKey"] = "2000",
    }, 1);

    public Task StartAsync() => Cluster.InitializeAsync();

    public async ValueTask DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>The measurements. Each prints what it did, how many times, and percentiles of what it measured.</summary>
internal static class Bench
{
    public static async Task<string> RunAsync(BenchFixture bench, string? chatAcrossSilos)
    {
        // GROUNDWORK_BENCH names one part to run (README); unset, all of them.
        var part = Environment.GetEnvironmentVariable("GROUNDWORK_BENCH");

        // GROUNDWORK_BENCH=reads: only the reads against bare Orleans (their own processes; no in-process cluster).
        if (part == "reads")
        {
            return Report([], [], await CallPathBench.RunAsync(), []);
        }

        var fixture = bench.Cluster;
        var tenant = await fixture.NewTenantAsync();
        var rows = new List<string>();
        List<string> chat = [];
        using (GroundworkCredentials.Use(tenant.OwnerKey))
        {
            // Warm up: first activation, first verification, JIT.
            var warm = fixture.Client.GetList(tenant.ListKey());
            await warm.CreateAsync("warm-up");
            for (var i = 0; i < 200; i++)
            {
                await warm.AddItemAsync(new NewItem($"w{i}"));
            }

            // GROUNDWORK_BENCH=parallel: only the parallel writes, many times (for a profiler to attach to).
            if (part == "parallel")
            {
                for (var round = 0; round < 10; round++)
                {
                    rows.Add(ParallelRow(64, [await ParallelWrites.RoundAsync(fixture, tenant, 64, perCaller: 200)], ""));
                }

                return Report(rows, [], [], []);
            }

            // GROUNDWORK_BENCH=floor: only SQLite alone on the same disk.
            if (part == "floor")
            {
                return Report(SqliteFloorBench.Run().Rows, [], [], []);
            }

            if (part == "chat-posts")
            {
                return Report([], [], [], await ChatBench.PostsOnlyAsync(fixture, tenant));
            }

            // GROUNDWORK_BENCH=chat: only the chat rows, which replace the chat section of the page as it is.
            if (part == "chat")
            {
                return Report([], [], [], await ChatBench.RunAsync(fixture, tenant, chatAcrossSilos));
            }

            // GROUNDWORK_BENCH=memory: only the heap per idle activation.
            if (part == "memory")
            {
                return Report(await MemoryBench.RunAsync(fixture, tenant), [], [], []);
            }

            // Adds to a 10-item and to a 10,000-item list, alternated in one loop so both see the same machine; each
            // add is undone (untimed) so the lists keep their sizes.
            var small = await FilledListAsync(fixture, tenant, 10);
            var large = await FilledListAsync(fixture, tenant, 9_999);
            var smallAdds = new List<double>();
            var largeAdds = new List<double>();
            for (var i = 0; i < 1_000; i++)
            {
                smallAdds.Add(await TimeOneAsync(() => small.AddItemAsync(new NewItem($"extra {i}")), r => small.RemoveItemAsync(r.Id!)));
                largeAdds.Add(await TimeOneAsync(() => large.AddItemAsync(new NewItem($"extra {i}")), r => large.RemoveItemAsync(r.Id!)));
            }

            rows.Add(Row("add item, list of 10 items", smallAdds));
            rows.Add(Row("add item, list of 10,000 items", largeAdds));
            rows.Add(string.Create(CultureInfo.InvariantCulture,
                $"| add to 10,000 items against add to 10 items (same run, alternated) | | **{largeAdds.Average() / smallAdds.Average():F2}x** mean, {Percentile(largeAdds, 0.5) / Percentile(smallAdds, 0.5):F2}x p50 (goal at most 1.3x) | | |"));
            rows.Add(Row("get snapshot, list of 10,000 items", await TimeEachAsync(200, _ => large.GetAsync())));
            rows.Add(Row("get snapshot, list of 10 items (access check + call)", await TimeEachAsync(2_000, _ => small.GetAsync())));

            var empty = fixture.Client.GetList(tenant.ListKey());
            await empty.CreateAsync("Empty");
            rows.Add(Row("activation: first read of an empty list after deactivation", await ActivationsAsync(empty, 30)));
            rows.Add(Row("activation: first read of a 10,000-item list after deactivation", await ActivationsAsync(large, 30)));

            // Untimed rounds first, on lists of their own, until the JIT is done with the parallel write path.
            var warmUps = await ParallelWrites.WarmUpAsync(fixture, tenant);
            var warmedBy = string.Create(CultureInfo.InvariantCulture,
                $"; after {warmUps.Count} untimed rounds of 12,800 at {string.Join(", ", warmUps.Select(r => r.Rate.ToString("N0", CultureInfo.InvariantCulture)))}/s, the last with {warmUps[^1].JitShare:P1} of its time in the JIT");
            var at64 = 0.0;
            foreach (var callers in new[] { 64, 512 })
            {
                var rounds = new List<WriteRound>();
                for (var round = 0; round < ParallelWrites.TimedRounds; round++)
                {
                    rounds.Add(await ParallelWrites.RoundAsync(fixture, tenant, callers, perCaller: 25_600 / callers));
                }

                rows.Add(ParallelRow(callers, rounds, warmedBy));
                at64 = callers == 64 ? ParallelWrites.MedianRate(rounds) : at64;
            }

            // The floor, right after, on the same disk: what one fsync per write would allow.
            var (floor, singleRowCommits) = SqliteFloorBench.Run();
            rows.AddRange(floor);
            rows.Add(string.Create(CultureInfo.InvariantCulture,
                $"| durable list writes with 64 lists (above) against SQLite's single-row commits (same run, same disk) | | **{at64 / singleRowCommits:F2}x**: group commit shares each fsync among the writes waiting for it | | |"));
            rows.AddRange(await MemoryBench.RunAsync(fixture, tenant));
            chat = await ChatBench.RunAsync(fixture, tenant, chatAcrossSilos);
        }

        // GROUNDWORK_BENCH=lists skips the flood (minutes) while tuning; docs/benchmarks.md is written from a full run.
        var quick = part == "lists";
        var flood = quick ? [] : await FloodBench.RunAsync();
        var reads = quick ? [] : await CallPathBench.RunAsync();
        return Report(rows, flood, reads, chat);
    }

    private static async Task<IListGrain> FilledListAsync(ClusterFixture fixture, TestTenant tenant, int items)
    {
        var list = fixture.Client.GetList(tenant.ListKey());
        await list.CreateAsync($"{items} items");
        for (var i = 0; i < items; i++)
        {
            await list.AddItemAsync(new NewItem($"item {i}", "a few words of notes"));
        }

        return list;
    }

    private static async Task<double> TimeOneAsync<T>(Func<Task<T>> call, Func<T, Task> undo)
    {
        var started = Stopwatch.GetTimestamp();
        var result = await call();
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        await undo(result);
        return elapsed;
    }

    /// <summary>How long one call takes, in milliseconds.</summary>
    public static async Task<double> TimeAsync<T>(Func<Task<T>> call)
    {
        var started = Stopwatch.GetTimestamp();
        await call();
        return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    }

    /// <summary>Deactivates <paramref name="grain"/>, waits for it to go, then times <paramref name="read"/>, which activates it again.</summary>
    public static async Task<double> ActivationAsync<T>(IAddressable grain, Func<Task<T>> read)
    {
        await grain.AsReference<Orleans.Core.Internal.IGrainManagementExtension>().DeactivateOnIdle();
        await Task.Delay(200);
        return await TimeAsync(read);
    }

    private static async Task<List<double>> ActivationsAsync(IListGrain list, int count)
    {
        var samples = new List<double>(count);
        for (var i = 0; i < count; i++)
        {
            samples.Add(await ActivationAsync(list, list.GetAsync));
        }

        return samples;
    }

    public static async Task<List<double>> TimeEachAsync<T>(int count, Func<int, Task<T>> call)
    {
        var samples = new List<double>(count);
        for (var i = 0; i < count; i++)
        {
            samples.Add(await TimeAsync(() => call(i)));
        }

        return samples;
    }

    /// <summary>The row of <paramref name="rounds"/> of parallel writes: the median round's rate, every round's, and what they cost.</summary>
    private static string ParallelRow(int callers, List<WriteRound> rounds, string warmedBy)
    {
        var seconds = rounds.Sum(r => r.Seconds);
        var mutations = rounds.Sum(r => r.Mutations);
        var cpu = rounds.Sum(r => r.CpuSeconds);
        var latencies = rounds.SelectMany(r => r.Latencies).ToList();
        var each = rounds.Count == 1 ? "" : string.Create(CultureInfo.InvariantCulture,
            $", median of {rounds.Count} rounds of {rounds[0].Mutations:N0} at {string.Join(", ", rounds.Select(r => r.Rate.ToString("N0", CultureInfo.InvariantCulture)))}/s");
        return string.Create(CultureInfo.InvariantCulture,
            $"| add item with operation id, {callers} lists written in parallel (each acknowledged once durable{warmedBy}) | {mutations:N0} | **{ParallelWrites.MedianRate(rounds):N0} mutations/s**{each} (goal at least 9,320, 5x the 1,864 before the kit); client and silo together used {cpu / seconds:F2} of {Environment.ProcessorCount} cores, {cpu * 1e6 / mutations:F0} µs of CPU per mutation, {rounds.Sum(r => r.JitSeconds) / seconds:P1} of the time in the JIT; the hypervisor took {rounds.Sum(r => r.StolenSeconds) / seconds / Environment.ProcessorCount:P0} of the machine's CPU time meanwhile | {Percentile(latencies, 0.5):F2} ms | {Percentile(latencies, 0.99):F2} ms |");
    }

    /// <summary>A table row: the count, mean, p50 and p99 of <paramref name="samples"/> (milliseconds).</summary>
    public static string Row(string what, List<double> samples) => string.Create(CultureInfo.InvariantCulture,
        $"| {what} | {samples.Count:N0} | {samples.Average():F2} ms mean | {Percentile(samples, 0.5):F2} ms | {Percentile(samples, 0.99):F2} ms |");

    /// <summary>A new tenant on the silo process, created with its operator key through <paramref name="setup"/>; its owner's key.</summary>
    public static async Task<(string Tenant, string OwnerKey)> NewTenantAsync(SiloProcess silo, RawClient setup)
    {
        var tenant = $"bench-{Guid.NewGuid():N}"[..20];
        var issued = await RawClient.WithKeyAsync(silo.OperatorKey, () => setup.Client.GetGrain<ITenantGrain>(tenant).CreateAsync("Bench", "owner"));
        return (tenant, issued.Key);
    }

    /// <summary>The <paramref name="q"/> quantile of <paramref name="samples"/> (nearest rank).</summary>
    public static double Percentile(IEnumerable<double> samples, double q)
    {
        var sorted = samples.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];
    }

    /// <summary>The chat section of the page (its own heading, machine and table).</summary>
    public static string ChatSection(IReadOnlyList<string> chat)
    {
        var text = new StringBuilder();
        text.AppendLine("## Chat");
        text.AppendLine();
        text.AppendLine("The same in-process cluster (one silo, SQLite on a real file, every commit fsynced, a tenant owner's key on");
        text.AppendLine("every call); a member's post rate is raised for the benchmark (the default is 10 at once, then 1 a second).");
        text.AppendLine("`GROUNDWORK_BENCH=chat` runs this section alone and replaces it in the page. Goals (issue \"Chat on the");
        text.AppendLine("kit\"): post latency and activation in a 1,000,000-message channel within 20 % of an empty one; one post to");
        text.AppendLine("1,000 watchers spread over the 3 silos of the cluster harness at p99 under 50 ms.");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Measured {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC on {Machine()}.");
        text.AppendLine();
        text.AppendLine("| What | Calls | Result | p50 | p99 |");
        text.AppendLine("|---|---|---|---|---|");
        foreach (var row in chat)
        {
            text.AppendLine(row);
        }

        return text.ToString();
    }

    private static string Report(List<string> rows, IReadOnlyList<string> flood, IReadOnlyList<string> reads, IReadOnlyList<string> chat)
    {
        var text = new StringBuilder();
        text.AppendLine("# Benchmarks");
        text.AppendLine();
        text.AppendLine("Written by `dotnet run -c Release --project tests/Groundwork.Benchmarks` (re-run it to refresh this page).");
        text.AppendLine("One silo with the real access filter and the SQLite grain storage on a real file (WAL, every commit fsynced),");
        text.AppendLine("hosted by Orleans' in-process test cluster: the client is in the same process and reaches the silo over the");
        text.AppendLine("test cluster's in-memory transport, so these figures leave out the network and socket cost of a real");
        text.AppendLine("gateway. Every call carries a tenant owner's key and passes the access check. Latencies are per call as the");
        text.AppendLine("client sees it, sequential unless the row says parallel. The process runs with server GC, as the silo ships");
        text.AppendLine("(the Docker image sets `DOTNET_gcServer=0`).");
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
        text.AppendLine("A mutation writes the list's head (title, version, access, page index, and its newest changes and operation ids");
        text.AppendLine("until they fill a batch of rows) and the page of at most 50 items it touched, in one commit; the writes of many");
        text.AppendLine("lists share one SQLite transaction and one fsync (group commit), and each is acknowledged only after that fsync.");
        text.AppendLine("So an add costs about the same at 10 and at 10,000 items. See docs/design/resource-kit.md.");
        text.AppendLine();
        text.AppendLine("The parallel-write figures move with the share of the CPU the hypervisor takes (each row says it). The 64-list");
        text.AppendLine("goal is 5x the release before the kit; `bash tests/Groundwork.Benchmarks.Writes/against.sh 5fd3af6` times that");
        text.AppendLine("release and this checkout alternately with the same rounds, so both sides see the same machine (its figures:");
        text.AppendLine("docs/design/resource-kit.md).");
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

        text.AppendLine();
        text.AppendLine("## Reads against bare Orleans");
        text.AppendLine();
        text.AppendLine("The Release silo on its embedded default (`SiloProcess`) and bare Orleans 10.4.2 in its own silo process");
        text.AppendLine("(`tests/Groundwork.Benchmarks.BareSilo`: localhost clustering, defaults, a grain answering with a snapshot of");
        text.AppendLine("the same three-item list), each through its own client in the benchmark's process over loopback:");
        text.AppendLine("Groundwork.Client with a tenant owner's key (access check, credential and telemetry on as shipped) and a plain");
        text.AppendLine("Orleans client. Caller i reads grain i in a loop; three rounds of 2 s per side, alternated. Calls per second,");
        text.AppendLine("means of the rounds. Goals (issue \"The call path at the speed of Orleans\"): at least 0.9x bare at 64 and 512");
        text.AppendLine("callers, 0.8x at 1.");
        if (reads.Count > 0)
        {
            // Its own stamp: GROUNDWORK_BENCH=reads replaces only this section.
            text.AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture, $"Measured {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC on {Machine()}.");
        }

        text.AppendLine();
        text.AppendLine("| Callers | bare ping | bare read | Groundwork `IListGrain.GetAsync` | against bare read | against bare ping |");
        text.AppendLine("|---|---|---|---|---|---|");
        foreach (var row in reads)
        {
            text.AppendLine(row);
        }

        text.AppendLine();
        text.Append(ChatSection(chat));
        return text.ToString();
    }

    internal static string Machine()
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

    /// <summary>The section of <paramref name="page"/> under <paramref name="heading"/>, to the next heading of its level or the end.</summary>
    public static string SectionOf(string page, string heading)
    {
        var start = page.IndexOf(heading + "\n", StringComparison.Ordinal);
        var end = page.IndexOf("\n## ", start + heading.Length, StringComparison.Ordinal);
        return end < 0 ? page[start..] : page[start..(end + 1)];
    }

    /// <summary><paramref name="page"/> with the section under <paramref name="heading"/> (to the next heading of its level) replaced by <paramref name="section"/>, or with it added at the end.</summary>
    public static string ReplaceSection(string page, string heading, string section)
    {
        var start = page.IndexOf(heading + "\n", StringComparison.Ordinal);
        if (start < 0)
        {
            return page.Length == 0 ? section : page.TrimEnd() + "\n\n" + section;
        }

        var end = page.IndexOf("\n## ", start + heading.Length, StringComparison.Ordinal);
        return page[..start] + section.TrimEnd() + "\n" + (end < 0 ? "" : "\n" + page[(end + 1)..]);
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
