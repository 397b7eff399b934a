using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Groundwork.Chat;
using Groundwork.Lists;
using Groundwork.Testing;

namespace Groundwork.Benchmarks;

/// <summary>
/// The HTTP gateway against the .NET client in one run, on the real silo process (which serves both): the same list
/// reads sequentially (the latency the gateway adds) and from 64 callers (its throughput against the client's),
/// alternated in rounds; then one chat post delivered to 1,000 WebSocket subscribers.
/// </summary>
internal static class GatewayBench
{
    private const int Rounds = 3;
    private const int SequentialCalls = 2_000;
    private const int Callers = 64;
    private static readonly TimeSpan ParallelRound = TimeSpan.FromSeconds(4);
    private const int Subscribers = 1_000;
    private const int Posts = 20;

    public static async Task<string> RunAsync()
    {
        await using var silo = SiloProcess.Start(environment: new Dictionary<string, string>
        {
            ["Groundwork__Gateway__RequestsPerSecond"] = "1000000",
            ["Groundwork__Gateway__Burst"] = "1000000",
            ["Groundwork__Access__MaxWatchersPerKey"] = "2000",
            ["Groundwork__Chat__PostRate"] = "1000000",
            ["Groundwork__Chat__PostBurst"] = "1000000",
        });
        await silo.WaitReadyAsync(TimeSpan.FromSeconds(60));
        await using var setup = await RawClient.ConnectAsync(silo.GatewayPort);
        var (tenant, owner) = await Bench.NewTenantAsync(silo, setup);
        await using var dotnet = await GroundworkClientHost.ConnectAsync(silo.GatewayPort, owner);
        var list = dotnet.Client.GetGrain<IListGrain>($"{tenant}/list/bench");
        await list.CreateAsync("Bench");
        for (var i = 0; i < 10; i++)
        {
            await list.AddItemAsync(new NewItem($"Item {i}"));
        }

        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Callers * 2, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
        {
            BaseAddress = silo.BaseAddress,
        };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", owner);
        var route = new Uri($"/v1/{tenant}/list/bench/get", UriKind.Relative);
        Func<Task> viaClient = async () => _ = (await list.GetAsync()).Items.Count;
        Func<Task> viaGateway = async () =>
        {
            using var response = await http.GetAsync(route);
            response.EnsureSuccessStatusCode();
            using var body = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync());
            _ = body.RootElement.GetProperty("items").GetArrayLength();
        };

        // Warm-up: JIT, connections, the verified key in both paths.
        await SequentialAsync(viaClient, 500);
        await SequentialAsync(viaGateway, 500);
        await ParallelAsync(viaClient, TimeSpan.FromSeconds(1));
        await ParallelAsync(viaGateway, TimeSpan.FromSeconds(1));

        // GROUNDWORK_BENCH_PROFILE=gateway or =client: only that path's reads, 64 callers for 20 s, between two lines a
        // profiler can wait for; =idle holds the silo unloaded for 60 s (for an outside load such as wrk). The first
        // line names the silo's pid, the route and the key (docs/design/call-path.md).
        if (Environment.GetEnvironmentVariable("GROUNDWORK_BENCH_PROFILE") is { } side)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"PROFILE START pid={silo.ProcessId} url={new Uri(silo.BaseAddress, route)} key={owner}"));
            var rate = side switch
            {
                "gateway" => await ParallelAsync(viaGateway, TimeSpan.FromSeconds(20)),
                "client" => await ParallelAsync(viaClient, TimeSpan.FromSeconds(20)),
                _ => await Task.Delay(TimeSpan.FromSeconds(60)).ContinueWith(_ => 0.0, TaskScheduler.Default),
            };
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"PROFILE END {rate:F0}"));
            return "";
        }

        List<double> clientLatency = [], gatewayLatency = [];
        List<double> clientRates = [], gatewayRates = [];
        var clientCpu = new CpuPerCall();
        var gatewayCpu = new CpuPerCall();
        for (var round = 0; round < Rounds; round++)
        {
            clientLatency.AddRange(await SequentialAsync(viaClient, SequentialCalls));
            gatewayLatency.AddRange(await SequentialAsync(viaGateway, SequentialCalls));
            clientRates.Add(await clientCpu.MeasureAsync(silo, () => ParallelAsync(viaClient, ParallelRound)));
            gatewayRates.Add(await gatewayCpu.MeasureAsync(silo, () => ParallelAsync(viaGateway, ParallelRound)));
        }

        var fanOut = await FanOutAsync(silo, dotnet, tenant, owner);

        var clientP50 = Bench.Percentile(clientLatency, 0.5);
        var gatewayP50 = Bench.Percentile(gatewayLatency, 0.5);
        var clientRate = Median(clientRates);
        var gatewayRate = Median(gatewayRates);
        var text = new StringBuilder();
        text.AppendLine("## Gateway");
        text.AppendLine();
        text.AppendLine("Written by `GROUNDWORK_BENCH=gateway dotnet run -c Release --project tests/Groundwork.Benchmarks` (replaces only this");
        text.AppendLine("section). One real silo process on the embedded default serves both paths: Groundwork.Client over its Orleans");
        text.AppendLine("gateway port, and HTTP (`GET /v1/{tenant}/list/{name}/get`, the JSON parsed) over its HTTP port, both on loopback");
        text.AppendLine("with a tenant owner's key, from this benchmark's process. The two paths alternate in rounds, so both see the same");
        text.AppendLine("machine. The fan-out: 1,000 WebSockets (`groundwork.v1`) subscribed to one channel's feed, one post at a time");
        text.AppendLine("through the .NET client, latency from the post's call to each socket's receipt of its event.");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Measured {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC on {Bench.Machine()}.");
        text.AppendLine();
        text.AppendLine("| What | Calls | Result | p50 | p99 |");
        text.AppendLine("|---|---|---|---|---|");
        text.AppendLine(Bench.Row("list read, sequential, through Groundwork.Client", clientLatency));
        text.AppendLine(Bench.Row("list read, sequential, through the HTTP gateway", gatewayLatency));
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"| latency the gateway adds at p50 (same run) | | **{gatewayP50 - clientP50:F3} ms** (goal at most 1 ms) | | |"));
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"| list reads from {Callers} callers through Groundwork.Client | | {clientRate:N0} calls/s, median of {Rounds} rounds of {ParallelRound.TotalSeconds:F0} s at {string.Join(", ", clientRates.Select(r => r.ToString("N0", CultureInfo.InvariantCulture)))} | | |"));
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"| list reads from {Callers} callers through the HTTP gateway | | {gatewayRate:N0} calls/s, median of {Rounds} rounds at {string.Join(", ", gatewayRates.Select(r => r.ToString("N0", CultureInfo.InvariantCulture)))} | | |"));
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"| gateway throughput against the client's (same run) | | **{gatewayRate / clientRate:F2}x** (goal at least 0.5x) | | |"));
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"| CPU per read at {Callers} callers: silo process / calling process | | Groundwork.Client {clientCpu.Silo:F0} / {clientCpu.Caller:F0} µs; HTTP gateway {gatewayCpu.Silo:F0} / {gatewayCpu.Caller:F0} µs | | |"));
        text.AppendLine(fanOut);
        return text.ToString();
    }

    private static async Task<List<double>> SequentialAsync(Func<Task> call, int calls)
    {
        var samples = new List<double>(calls);
        for (var i = 0; i < calls; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await call();
            samples.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }

        return samples;
    }

    private static async Task<double> ParallelAsync(Func<Task> call, TimeSpan duration)
    {
        var clock = Stopwatch.StartNew();
        var calls = 0L;
        await Task.WhenAll(Enumerable.Range(0, Callers).Select(async _ =>
        {
            while (clock.Elapsed < duration)
            {
                await call();
                Interlocked.Increment(ref calls);
            }
        }));
        return calls / clock.Elapsed.TotalSeconds;
    }

    private static async Task<string> FanOutAsync(SiloProcess silo, GroundworkClientHost dotnet, string tenant, string owner)
    {
        var channel = dotnet.Client.GetGrain<IChannelGrain>($"{tenant}/channel/bench");
        await channel.CreateAsync(new NewChannel("Bench"));
        var after = (await channel.PostAsync(new NewMessage("before"))).Version;

        var url = new Uri($"ws://127.0.0.1:{silo.HttpPort}/v1/ws");
        var subscribe = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { type = "subscribe", id = "c", path = $"{tenant}/channel/bench/watch", args = new { afterSequence = after } }));
        var sockets = new List<ClientWebSocket>();
        var connecting = Stopwatch.StartNew();
        for (var i = 0; i < Subscribers; i++)
        {
            var socket = new ClientWebSocket();
            socket.Options.AddSubProtocol("groundwork.v1");
            socket.Options.SetRequestHeader("Authorization", $"Bearer {owner}");
            await socket.ConnectAsync(url, CancellationToken.None);
            await socket.SendAsync(subscribe, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            sockets.Add(socket);
        }

        var connected = connecting.Elapsed;
        var sentAt = new long[Posts + 1];
        var latencies = new List<double>[Posts + 1];
        for (var i = 0; i <= Posts; i++)
        {
            latencies[i] = [];
        }

        var received = new CountdownEvent(Subscribers * (Posts + 1));
        using var stop = new CancellationTokenSource();
        var readers = sockets.Select(socket => Task.Run(() => ReadAsync(socket, sentAt, latencies, received, stop.Token))).ToList();

        // Post 0 proves every feed is open; then the measured posts, one at a time.
        for (var post = 0; post <= Posts; post++)
        {
            var expected = Subscribers * (Posts - post);
            sentAt[post] = Stopwatch.GetTimestamp();
            await channel.PostAsync(new NewMessage($"fan-out {post}"));
            var deadline = Stopwatch.StartNew();
            while (received.CurrentCount > expected && deadline.Elapsed < TimeSpan.FromSeconds(30))
            {
                received.Wait(TimeSpan.FromMilliseconds(5));
            }

            if (received.CurrentCount > expected)
            {
                throw new InvalidOperationException($"post {post} reached {Subscribers - (received.CurrentCount - expected)} of {Subscribers} sockets in 30 s");
            }
        }

        await stop.CancelAsync();
        foreach (var socket in sockets)
        {
            socket.Abort();
            socket.Dispose();
        }

        await Task.WhenAll(readers);
        var all = latencies.Skip(1).SelectMany(l => l).ToList();
        var lastSocket = latencies.Skip(1).Select(l => l.Max()).ToList();
        return string.Create(CultureInfo.InvariantCulture,
            $"| one chat post delivered to {Subscribers:N0} WebSocket subscribers ({Posts} posts, one at a time; the sockets connected and subscribed in {connected.TotalSeconds:F1} s) | {all.Count:N0} deliveries | last socket reached after {lastSocket.Average():F1} ms mean, {Bench.Percentile(lastSocket, 0.5):F1} ms p50 | {Bench.Percentile(all, 0.5):F2} ms | {Bench.Percentile(all, 0.99):F2} ms |");
    }

    private static async Task ReadAsync(ClientWebSocket socket, long[] sentAt, List<double>[] latencies, CountdownEvent received, CancellationToken stop)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var result = await socket.ReceiveAsync(buffer, stop);
                var now = Stopwatch.GetTimestamp();
                if (result.MessageType != WebSocketMessageType.Text || !result.EndOfMessage)
                {
                    continue;
                }

                using var message = JsonDocument.Parse(buffer.AsMemory(0, result.Count));
                if (message.RootElement.GetProperty("type").GetString() != "event")
                {
                    continue;
                }

                var text = message.RootElement.GetProperty("data").GetRawText();
                var mark = text.IndexOf("fan-out ", StringComparison.Ordinal);
                var digits = mark < 0 ? "" : new string(text[(mark + 8)..].TakeWhile(char.IsAsciiDigit).ToArray());
                if (int.TryParse(digits, CultureInfo.InvariantCulture, out var post) && post < sentAt.Length && received.CurrentCount > 0)
                {
                    var latency = Stopwatch.GetElapsedTime(sentAt[post], now).TotalMilliseconds;
                    lock (latencies[post])
                    {
                        latencies[post].Add(latency);
                    }

                    received.Signal();
                }
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or WebSocketException or ObjectDisposedException)
        {
            // Stopped.
        }
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    /// <summary>CPU microseconds per call in the silo process and in this (calling) process, over the measured rounds.</summary>
    private sealed class CpuPerCall
    {
        private double _silo;
        private double _caller;
        private double _calls;

        public double Silo => _silo / _calls;

        public double Caller => _caller / _calls;

        public async Task<double> MeasureAsync(SiloProcess silo, Func<Task<double>> round)
        {
            var siloBefore = silo.CpuTime;
            var callerBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            var rate = await round();
            _calls += rate * clock.Elapsed.TotalSeconds;
            _silo += (silo.CpuTime - siloBefore).TotalMicroseconds;
            _caller += (Process.GetCurrentProcess().TotalProcessorTime - callerBefore).TotalMicroseconds;
            return rate;
        }
    }
}
