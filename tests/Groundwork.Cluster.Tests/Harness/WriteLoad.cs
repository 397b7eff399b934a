using System.Collections.Concurrent;
using System.Diagnostics;
using Groundwork.Lists;
using Groundwork.Tenants;

namespace Groundwork.Cluster.Tests.Harness;

/// <summary>
/// A sustained write load: one writer per list adds items one after another, each with its own operation id, and
/// retries a failed add with the same id until it is acknowledged or <see cref="RequestDeadline"/> passes. At the
/// end <see cref="VerifyAsync"/> reads every list back: every acknowledged add must be there, and none twice.
/// </summary>
public sealed class WriteLoad : IAsyncDisposable
{
    private readonly IClusterClient _client;
    private readonly IReadOnlyList<string> _lists;
    private readonly ConcurrentDictionary<string, ConcurrentBag<string>> _acknowledged = new();
    private readonly ConcurrentDictionary<string, int> _errors = new();
    private readonly ConcurrentQueue<double> _failedCallSeconds = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _writers = [];
    private long _attempts;
    private long _failedRequests;
    private long _lastAcknowledgedTicks;

    private WriteLoad(IClusterClient client, IReadOnlyList<string> lists)
    {
        _client = client;
        _lists = lists;
        foreach (var list in lists)
        {
            _acknowledged[list] = [];
        }
    }

    /// <summary>How long one add may keep being retried before it counts as a failed request. Default 30 s.</summary>
    public TimeSpan RequestDeadline { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long one attempt may take before the writer gives up on it and retries with the same operation id.
    /// Default 5 s: a call already sent to a silo that is then killed gets no answer until the response timeout.
    /// </summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The lists written to.</summary>
    public IReadOnlyList<string> Lists => _lists;

    /// <summary>Acknowledged adds so far.</summary>
    public int Acknowledged => _acknowledged.Values.Sum(b => b.Count);

    /// <summary>Attempts so far (first tries and retries).</summary>
    public long Attempts => Interlocked.Read(ref _attempts);

    /// <summary>Adds that were never acknowledged within the deadline.</summary>
    public long FailedRequests => Interlocked.Read(ref _failedRequests);

    /// <summary>Failed attempts by exception type.</summary>
    public IReadOnlyDictionary<string, int> Errors => _errors;

    /// <summary>The longest time a failed attempt took to fail, in seconds (0 when none failed).</summary>
    public double LongestFailedCallSeconds => _failedCallSeconds.IsEmpty ? 0 : _failedCallSeconds.Max();

    /// <summary>Acknowledged adds of one list.</summary>
    public int AcknowledgedOn(string list) => _acknowledged[list].Count;

    /// <summary>Creates <paramref name="count"/> lists in a new tenant and starts one writer per list.</summary>
    public static async Task<WriteLoad> StartAsync(IClusterClient client, string scenario, int count = 12)
    {
        ArgumentNullException.ThrowIfNull(client);
        var tenant = $"{scenario}{Guid.NewGuid().ToString("n")[..6]}";
        await client.GetTenant(tenant).CreateAsync(scenario, owner: "load");
        var lists = Enumerable.Range(0, count).Select(i => $"{tenant}/list/l{i}").ToList();
        await Task.WhenAll(lists.Select(l => client.GetList(l).CreateAsync(l, new MutationOptions(OperationId: "create"))));
        var load = new WriteLoad(client, lists);
        foreach (var list in lists)
        {
            load._writers.Add(Task.Run(() => load.WriteAsync(list)));
        }

        return load;
    }

    /// <summary>Waits until every list has at least <paramref name="each"/> more acknowledged adds than now.</summary>
    public async Task WaitForProgressAsync(int each, TimeSpan timeout)
    {
        var start = _lists.ToDictionary(l => l, AcknowledgedOn);
        var clock = Stopwatch.StartNew();
        while (_lists.Any(l => AcknowledgedOn(l) < start[l] + each))
        {
            if (clock.Elapsed > timeout)
            {
                var behind = _lists.Where(l => AcknowledgedOn(l) < start[l] + each).ToList();
                throw new TimeoutException($"{behind.Count} lists made no progress within {timeout} (errors: {Describe(Errors)}); first: {behind[0]}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Stops the writers (each finishes or abandons its current add).</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_writers);
    }

    /// <summary>Reads every list back; returns (writes checked, problems found).</summary>
    public async Task<(int Checked, IReadOnlyList<string> Problems)> VerifyAsync()
    {
        var problems = new List<string>();
        var checkedWrites = 0;
        foreach (var list in _lists)
        {
            var snapshot = await _client.GetList(list).GetAsync();
            var titles = snapshot.Items.GroupBy(i => i.Title).ToDictionary(g => g.Key, g => g.Count());
            foreach (var title in _acknowledged[list])
            {
                checkedWrites++;
                if (!titles.TryGetValue(title, out var times))
                {
                    problems.Add($"{list}: acknowledged '{title}' is missing");
                }
            }

            problems.AddRange(titles.Where(t => t.Value > 1).Select(t => $"{list}: '{t.Key}' applied {t.Value} times"));
        }

        return (checkedWrites, problems);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await StopAsync();
        }

        _stop.Dispose();
    }

    /// <summary>"Type: n, Type: n".</summary>
    public static string Describe(IReadOnlyDictionary<string, int> errors) =>
        errors.Count == 0 ? "none" : string.Join(", ", errors.OrderByDescending(e => e.Value).Select(e => $"{e.Key}: {e.Value}"));

    private async Task WriteAsync(string list)
    {
        var grain = _client.GetList(list);
        for (var sequence = 1; !_stop.IsCancellationRequested; sequence++)
        {
            var title = $"w{sequence}";
            var options = new MutationOptions(OperationId: $"add-{sequence}");
            var requestClock = Stopwatch.StartNew();
            while (true)
            {
                Interlocked.Increment(ref _attempts);
                var attemptClock = Stopwatch.StartNew();
                try
                {
                    await grain.AddItemAsync(new NewItem(title), options: options).WaitAsync(AttemptTimeout);
                    _acknowledged[list].Add(title);
                    Interlocked.Exchange(ref _lastAcknowledgedTicks, DateTime.UtcNow.Ticks);
                    break;
                }
                catch (Exception exception) when (exception is not OutOfMemoryException)
                {
                    _failedCallSeconds.Enqueue(attemptClock.Elapsed.TotalSeconds);
                    _errors.AddOrUpdate(exception.GetType().Name, 1, (_, n) => n + 1);
                    if (requestClock.Elapsed > RequestDeadline || _stop.IsCancellationRequested)
                    {
                        if (!_stop.IsCancellationRequested)
                        {
                            Interlocked.Increment(ref _failedRequests);
                        }

                        break;
                    }

                    await Task.Delay(100);
                }
            }
        }
    }
}
