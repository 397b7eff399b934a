using Groundwork.Chat;
using Groundwork.Client;
using Groundwork.Lists;
using Groundwork.Sheets;
using Groundwork.Tenants;
using Groundwork.Testing;
using Xunit;

namespace Groundwork.Silo.Tests.Telemetry;

[CollectionDefinition(Name)]
public sealed class TelemetryCollection : ICollectionFixture<TelemetrySiloFixture>
{
    public const string Name = "telemetry silo";
}

/// <summary>
/// One real silo process exporting OTLP to an in-test receiver, under a small steady load from a client in this
/// process: lists created and mutated, an idempotent replay, a refused call, a feed watcher that receives live
/// changes, chat (posts to a watched channel, a member online) and a workbook edit that recalculates, so every series and span the dashboards rely on
/// exists. Shared by the telemetry tests.
/// </summary>
public sealed class TelemetrySiloFixture : IAsyncLifetime, IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task _load = Task.CompletedTask;
    private Task _watching = Task.CompletedTask;
    private Task _watchingChat = Task.CompletedTask;
    private GroundworkClientHost? _operator;
    private GroundworkClientHost? _owner;
    private HttpClient? _http;
    private string _ownerKey = "";

    public OtlpReceiver Otlp { get; private set; } = null!;

    public SiloProcess Silo { get; private set; } = null!;

    public string TenantId { get; } = "tel-" + Guid.NewGuid().ToString("n")[..8];

    private string ChannelKey => $"{TenantId}/channel/load";

    /// <summary>Changes the watcher received so far.</summary>
    public int WatchedChanges => _watched;

    private int _watched;
    private int _rounds;

    /// <summary>Rounds of load completed so far.</summary>
    public int Rounds => _rounds;

    public async Task InitializeAsync()
    {
        Otlp = OtlpReceiver.Start();
        // The load posts to one channel four times a second, past a member's default rate (1 a second).
        // ASP.NET Core's routing logs "Executing endpoint" inside each request's span: turned up (it starts at Warning).
        var environment = new Dictionary<string, string>(Otlp.Environment())
        {
            ["Groundwork__Chat__PostRate"] = "100",
            ["Logging__LogLevel__Microsoft.AspNetCore.Routing"] = "Information",
        };
        Silo = SiloProcess.Start(environment: environment);
        await Silo.WaitReadyAsync(TimeSpan.FromSeconds(60));

        _operator = await GroundworkClientHost.ConnectAsync(Silo.GatewayPort, Silo.OperatorKey);
        var ownerKey = (await _operator.Client.GetTenant(TenantId).CreateAsync("Telemetry", "ann")).Key;
        _owner = await GroundworkClientHost.ConnectAsync(Silo.GatewayPort, ownerKey);
        _ownerKey = ownerKey;
        _http = new HttpClient { BaseAddress = Silo.BaseAddress };

        var watched = $"{TenantId}/list/watched";
        await _owner.Client.GetList(watched).CreateAsync("Watched");
        await _owner.Client.GetWorkbook($"{TenantId}/workbook/load").CreateAsync("Load");
        await _owner.Client.GetWorkbook($"{TenantId}/workbook/load").EditAsync([new CellInput("B1", "=A1*2")]);
        _watching = Task.Run(() => WatchAsync(watched, _stop.Token));
        await _owner.Client.GetChannel(ChannelKey).CreateAsync(new NewChannel("load"));
        _watchingChat = Task.Run(() => WatchChatAsync(_stop.Token));
        await RoundAsync(watched, 0);
        _load = Task.Run(() => LoadAsync(watched, _stop.Token));
    }

    /// <summary>Waits until the load has run <paramref name="rounds"/> more rounds and the watcher has seen live changes.</summary>
    public async Task WaitForLoadAsync(int rounds, TimeSpan timeout)
    {
        var target = _rounds + rounds;
        using var deadline = new CancellationTokenSource(timeout);
        while (_rounds < target || _watched == 0)
        {
            if (_load.IsFaulted)
            {
                await _load;
            }

            await Task.Delay(100, deadline.Token);
        }
    }

    private async Task WatchAsync(string key, CancellationToken stop)
    {
        try
        {
            await foreach (var _ in ListFeed.WatchListAsync(_owner!.Client, key, 0, stop))
            {
                Interlocked.Increment(ref _watched);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private async Task WatchChatAsync(CancellationToken stop)
    {
        try
        {
            await foreach (var _ in _owner!.Client.GetChannel(ChannelKey).WatchAsync(0, stop))
            {
                Interlocked.Increment(ref _watched);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private async Task LoadAsync(string watched, CancellationToken stop)
    {
        for (var round = 1; !stop.IsCancellationRequested; round++)
        {
            try
            {
                await RoundAsync(watched, round);
                await Task.Delay(250, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>One round: a new list with an item added, completed and removed, a retried operation id, and a refused call.</summary>
    private async Task RoundAsync(string watched, int round)
    {
        var client = _owner!.Client;
        var list = client.GetList($"{TenantId}/list/load-{round % 20}");
        if (round < 20)
        {
            await list.CreateAsync($"Load {round}");
        }

        var added = await list.AddItemAsync(new NewItem($"item {round}"), options: new MutationOptions(OperationId: $"add-{round}"));
        var replay = await list.AddItemAsync(new NewItem($"item {round}"), options: new MutationOptions(OperationId: $"add-{round}"));
        if (!replay.Replayed)
        {
            throw new InvalidOperationException("a retried operation id was applied twice");
        }

        await list.CompleteItemAsync(added.Id!);
        await list.RemoveItemAsync(added.Id!);
        _ = await list.GetAsync();

        // A live change for the watcher (feed lag), kept small: add then remove.
        var live = await client.GetList(watched).AddItemAsync(new NewItem($"live {round}"));
        await client.GetList(watched).RemoveItemAsync(live.Id!);

        // Sheets: an edit that recalculates a dependent.
        await client.GetWorkbook($"{TenantId}/workbook/load").EditAsync([new CellInput("A1", $"{round}")]);

        // Chat: a post the channel's watcher receives, and the owner online.
        await client.GetChannel(ChannelKey).PostAsync(new NewMessage($"round {round}"));
        await client.GetPresence(TenantId).HeartbeatAsync("load");

        // The HTTP gateway: a read with the owner's key, and one without a key (401).
        var route = new Uri($"/v1/{TenantId}/list/load-{round % 20}/get", UriKind.Relative);
        foreach (var key in (string?[])[_ownerKey, null])
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, route);
            if (key is not null)
            {
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
            }

            using var response = await _http!.SendAsync(request);
            var expected = key is null ? System.Net.HttpStatusCode.Unauthorized : System.Net.HttpStatusCode.OK;
            if (response.StatusCode != expected)
            {
                throw new InvalidOperationException($"a gateway read {(key is null ? "without" : "with")} a key got {(int)response.StatusCode}");
            }
        }

        // Refusals: a key of another tenant (wrong tenant), and a key nobody issued (unknown credential).
        await Refused(() => client.GetList($"x{TenantId}/list/elsewhere").GetAsync());
        using (GroundworkCredentials.Use("gwk_nobody_0000_" + new string('0', 64)))
        {
            await Refused(() => client.GetList(watched).GetAsync());
        }

        Interlocked.Increment(ref _rounds);
    }

    private static async Task Refused(Func<Task> call)
    {
        try
        {
            await call();
        }
        catch (AccessDeniedException)
        {
            return;
        }

        throw new InvalidOperationException("a call that must be refused was let through");
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _load;
            await _watching;
            await _watchingChat;
        }
        catch (Exception) when (_stop.IsCancellationRequested)
        {
            // Ending the load may cut a call short.
        }

        if (_owner is not null)
        {
            await _owner.DisposeAsync();
        }

        if (_operator is not null)
        {
            await _operator.DisposeAsync();
        }

        await Silo.DisposeAsync();
        await Otlp.DisposeAsync();
    }

    public void Dispose()
    {
        _stop.Dispose();
        _http?.Dispose();
    }
}
