using System.Diagnostics;
using System.Globalization;
using Groundwork.Benchmarks.BareSilo;
using Groundwork.Lists;
using Groundwork.Testing;

namespace Groundwork.Benchmarks;

/// <summary>
/// Reads measured from outside, side by side in one run: the Release silo on its embedded default against bare
/// Orleans 10.4.2 in its own silo process (a grain answering with a snapshot of the same list), each through its own
/// client in this process, the same callers and grains, rounds alternated so both see the same machine.
/// </summary>
internal static class CallPathBench
{
    private const int Grains = 512;
    private const int Rounds = 3;
    private static readonly TimeSpan RoundLength = TimeSpan.FromSeconds(2);

    public static async Task<IReadOnlyList<string>> RunAsync()
    {
        await using var silo = SiloProcess.Start();
        using var bare = StartBare(out var bareGateway);
        try
        {
            await silo.WaitReadyAsync(TimeSpan.FromSeconds(60));
            await using var setup = await RawClient.ConnectAsync(silo.GatewayPort);
            var (tenant, owner) = await Bench.NewTenantAsync(silo, setup);
            await using var groundwork = await GroundworkClientHost.ConnectAsync(silo.GatewayPort, owner);

            // A list of three items per caller, and a bare grain per caller holding a snapshot of the same size.
            var lists = Enumerable.Range(0, Grains).Select(i => groundwork.Client.GetGrain<IListGrain>($"{tenant}/list/read-{i}")).ToList();
            await ForEachAsync(lists, async list =>
            {
                await list.CreateAsync("Reads");
                for (var i = 0; i < 3; i++)
                {
                    await list.AddItemAsync(new NewItem($"item {i}", "a few words of notes"));
                }
            });
            var snapshot = await lists[0].GetAsync();

            await using var bareClient = await ConnectBareAsync(bareGateway, bare);
            var bares = Enumerable.Range(0, Grains).Select(i => bareClient.Client.GetGrain<IBareListGrain>($"read-{i}")).ToList();
            await ForEachAsync(bares, grain => grain.SetAsync(snapshot));

            // Warm-up: first activations, connections, JIT.
            await CallsPerSecondAsync(64, i => lists[i].GetAsync(), TimeSpan.FromSeconds(1));
            await CallsPerSecondAsync(64, i => bares[i].GetAsync(), TimeSpan.FromSeconds(1));
            await CallsPerSecondAsync(64, i => bares[i].PingAsync(), TimeSpan.FromSeconds(1));

            // GROUNDWORK_BENCH_PROFILE=groundwork or =bare: only that side's reads, 64 callers for 20 s, between two lines
            // a profiler can wait for (docs/design/call-path.md, "Profile").
            if (Environment.GetEnvironmentVariable("GROUNDWORK_BENCH_PROFILE") is { } side)
            {
                Console.WriteLine("PROFILE START");
                var rate = side == "bare"
                    ? await CallsPerSecondAsync(64, i => bares[i].GetAsync(), TimeSpan.FromSeconds(20))
                    : await CallsPerSecondAsync(64, i => lists[i].GetAsync(), TimeSpan.FromSeconds(20));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"PROFILE END {rate:F0}"));
                return [];
            }

            var rows = new List<string>();
            foreach (var callers in new[] { 1, 64, 512 })
            {
                double ours = 0, floor = 0, ping = 0;
                for (var round = 0; round < Rounds; round++)
                {
                    floor += await CallsPerSecondAsync(callers, i => bares[i].GetAsync(), RoundLength);
                    ours += await CallsPerSecondAsync(callers, i => lists[i].GetAsync(), RoundLength);
                    ping += await CallsPerSecondAsync(callers, i => bares[i].PingAsync(), RoundLength);
                }

                rows.Add(string.Create(CultureInfo.InvariantCulture,
                    $"| {callers} | {ping / Rounds:N0} | {floor / Rounds:N0} | {ours / Rounds:N0} | **{ours / floor:F2}** | {ours / ping:F2} |"));
            }

            return rows;
        }
        finally
        {
            if (!bare.HasExited)
            {
                bare.Kill(entireProcessTree: true);
                await bare.WaitForExitAsync();
            }
        }
    }

    /// <summary>Calls from <paramref name="callers"/> loops (caller i on grain i) for <paramref name="length"/>; calls per second.</summary>
    private static async Task<double> CallsPerSecondAsync(int callers, Func<int, Task> call, TimeSpan length)
    {
        long calls = 0;
        var running = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, callers).Select(async i =>
        {
            while (running.Elapsed < length)
            {
                await call(i);
                Interlocked.Increment(ref calls);
            }
        }));
        return calls / running.Elapsed.TotalSeconds;
    }

    private static async Task ForEachAsync<T>(IReadOnlyList<T> grains, Func<T, Task> action)
    {
        for (var start = 0; start < grains.Count; start += 64)
        {
            await Task.WhenAll(grains.Skip(start).Take(64).Select(action));
        }
    }

    private static Process StartBare(out int gatewayPort)
    {
        gatewayPort = SiloProcess.FreePort();
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(SiloProcess.BuiltAssemblyPath(Path.Combine("tests", "Groundwork.Benchmarks.BareSilo"), "Groundwork.Benchmarks.BareSilo.dll"));
        info.ArgumentList.Add(SiloProcess.FreePort().ToString(CultureInfo.InvariantCulture));
        info.ArgumentList.Add(gatewayPort.ToString(CultureInfo.InvariantCulture));
        var process = Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start the bare silo");
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task<RawClient> ConnectBareAsync(int gatewayPort, Process bare)
    {
        // The bare silo prints one line once it listens; what else it writes (warnings) is read and dropped, so its
        // output never fills the pipe.
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new System.Text.StringBuilder();
        _ = Task.Run(async () =>
        {
            while (await bare.StandardOutput.ReadLineAsync() is { } line)
            {
                if (line == "bare silo ready")
                {
                    ready.TrySetResult();
                }
                else if (!ready.Task.IsCompleted)
                {
                    output.AppendLine(line);
                }
            }

            ready.TrySetException(new InvalidOperationException($"The bare silo exited before it was ready:\n{output}"));
        });
        await ready.Task.WaitAsync(TimeSpan.FromSeconds(60));
        return await RawClient.ConnectAsync(gatewayPort, clusterId: "bare", serviceId: "bare");
    }
}
