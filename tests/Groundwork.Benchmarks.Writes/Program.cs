using System.Globalization;
using Groundwork.Benchmarks;
using Groundwork.Client;
using Groundwork.Testing;

// 64 lists written in parallel on the in-process cluster with default limits: warm-up rounds, then five timed rounds
// in the shape of the measurement before the kit (64 new lists, 100 adds each: 1,864 mutations/s then), since a
// list that rewrites its whole state on every add costs more the longer it gets. Prints one line per timed round and
// a last line "median <mutations/s>"; against.sh reads that line.
const int PerCaller = 100;
const int TimedRounds = 5;
var fixture = ClusterFixture.Create(new Dictionary<string, string?>(), 1);
await fixture.InitializeAsync();
try
{
    var tenant = await fixture.NewTenantAsync();
    using var credentials = GroundworkCredentials.Use(tenant.OwnerKey);
    var warmUps = await ParallelWrites.WarmUpAsync(fixture, tenant);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{warmUps.Count} warm-up rounds, the last {warmUps[^1].JitShare:P1} in the JIT"));
    var rounds = new List<WriteRound>();
    for (var i = 0; i < TimedRounds; i++)
    {
        var round = await ParallelWrites.RoundAsync(fixture, tenant, 64, perCaller: PerCaller);
        rounds.Add(round);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"round {i + 1}: {round.Rate:F0} mutations/s, {round.CpuSeconds * 1e6 / round.Mutations:F0} µs of CPU each, steal {round.StolenSeconds / round.Seconds / Environment.ProcessorCount:P0}"));
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"median {ParallelWrites.MedianRate(rounds):F0}"));
}
finally
{
    await fixture.DisposeAsync();
}
