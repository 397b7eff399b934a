using Groundwork.Lists;
using Groundwork.Testing;
using Groundwork.Tenants;
using Xunit;

namespace Groundwork.Silo.Tests.Attacks;

/// <summary>
/// One real silo process on the embedded default (the README's command), attacked by <see cref="RawClient"/>s: two
/// tenants with an owner each, a shared list in each. Watchers per key are capped low so the cap is quick to reach.
/// </summary>
public sealed class AttackFixture : IAsyncLifetime
{
    public const int WatchersPerKey = 5;

    public const int RefusalBurst = 5_000;

    public SiloProcess Silo { get; private set; } = null!;

    public RawClient Raw { get; private set; } = null!;

    public string Operator => Silo.OperatorKey;

    public string AlphaOwnerKey { get; private set; } = "";

    public string BetaOwnerKey { get; private set; } = "";

    public string Run { get; } = Guid.NewGuid().ToString("N")[..6];

    public string Alpha => $"alpha-{Run}";

    public string Beta => $"beta-{Run}";

    public async Task InitializeAsync()
    {
        Silo = SiloProcess.Start(environment: new Dictionary<string, string>
        {
            ["Groundwork__Access__MaxWatchersPerKey"] = WatchersPerKey.ToString(System.Globalization.CultureInfo.InvariantCulture),

            // The other tests refuse thousands of calls through one connection; the budget is tried on its own.
            ["Groundwork__Messages__RefusalBurst"] = RefusalBurst.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Groundwork__Messages__RefusalsPerSecond"] = "500",
        });
        await Silo.WaitReadyAsync(TimeSpan.FromSeconds(60));
        Raw = await RawClient.ConnectAsync(Silo.GatewayPort);
        AlphaOwnerKey = (await RawClient.WithKeyAsync(Operator, () => Raw.Client.GetGrain<ITenantGrain>(Alpha).CreateAsync("Alpha", "ann"))).Key;
        BetaOwnerKey = (await RawClient.WithKeyAsync(Operator, () => Raw.Client.GetGrain<ITenantGrain>(Beta).CreateAsync("Beta", "bob"))).Key;
        await RawClient.WithKeyAsync(AlphaOwnerKey, () => Raw.Client.GetGrain<IListGrain>($"{Alpha}/list/shared").CreateAsync("Shared"));
        await RawClient.WithKeyAsync(BetaOwnerKey, () => Raw.Client.GetGrain<IListGrain>($"{Beta}/list/shared").CreateAsync("Beta's"));
    }

    /// <summary>Fails with the silo's output when the silo is no longer running or no longer answers a legitimate read.</summary>
    public async Task AssertSiloAnswersAsync()
    {
        Assert.True(Silo.ExitCode is null, $"the silo exited with {Silo.ExitCode}: {Silo.Errors}\n{Silo.Output[^Math.Min(4000, Silo.Output.Length)..]}");
        await using var fresh = await RawClient.ConnectAsync(Silo.GatewayPort);
        var snapshot = await RawClient.WithKeyAsync(AlphaOwnerKey, () => fresh.Client.GetGrain<IListGrain>($"{Alpha}/list/shared").GetAsync());
        Assert.Equal("Shared", snapshot.Title);
    }

    /// <summary>Activations of Groundwork's grain types on the silo, as the operator sees them.</summary>
    public async Task<int> ActivationsAsync(string grainTypeName) =>
        (await RawClient.WithKeyAsync(Operator, () => Raw.Client.GetGrain<IManagementGrain>(0).GetSimpleGrainStatistics()))
            .Where(s => s.GrainType.Contains(grainTypeName, StringComparison.Ordinal)).Sum(s => s.ActivationCount);

    /// <summary>The silo's <c>groundwork_access_refusals_total</c> for <paramref name="reason"/>, from <c>/metrics</c>.</summary>
    public Task<double> RefusalsAsync(string reason) => MetricAsync("groundwork_access_refusals_total", $"reason=\"{reason}\"");

    /// <summary>The sum of the series of <paramref name="name"/> (whose labels contain <paramref name="label"/>) on <c>/metrics</c>.</summary>
    public async Task<double> MetricAsync(string name, string label = "")
    {
        using var http = new HttpClient { BaseAddress = Silo.BaseAddress };
        var text = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        return text.Split('\n')
            .Where(l => (l.StartsWith(name + "{", StringComparison.Ordinal) || l.StartsWith(name + " ", StringComparison.Ordinal)) && l.Contains(label, StringComparison.Ordinal))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Waits up to 15 s for <paramref name="condition"/>, failing with <paramref name="what"/>.</summary>
    public static async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            await Task.Delay(100);
        }
    }

    public async Task DisposeAsync()
    {
        await Raw.DisposeAsync();
        await Silo.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class AttackCollection : ICollectionFixture<AttackFixture>
{
    public const string Name = "attacks on one silo process";
}
