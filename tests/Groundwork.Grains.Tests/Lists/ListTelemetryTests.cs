using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Groundwork.Lists;
using Groundwork.Testing;
using Xunit;

namespace Groundwork.Grains.Tests.Lists;

[Collection(ClusterCollection.Name)]
public sealed class ListTelemetryTests(ClusterFixture fixture) : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _totals = new();
    private readonly ConcurrentDictionary<string, double> _lastValues = new();

    private void Listen()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == GroundworkTelemetry.MeterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var labels = string.Join(",", tags.ToArray().Where(t => t.Key != "block").Select(t => $"{t.Key}={t.Value}").Order());
            _totals.AddOrUpdate($"{instrument.Name}{{{labels}}}", value, (_, total) => total + value);
            if (value > 0)
            {
                // Up/down counters also see other tests' watchers closing; count openings on their own.
                _totals.AddOrUpdate($"{instrument.Name}+{{{labels}}}", value, (_, total) => total + value);
            }
        });
        _listener.SetMeasurementEventCallback<double>((instrument, value, _, _) =>
        {
            _totals.AddOrUpdate($"{instrument.Name}#count", 1, (_, total) => total + 1);
            _lastValues[instrument.Name] = value;
        });
        _listener.Start();
    }

    public void Dispose() => _listener.Dispose();

    private long Total(string series) => _totals.GetValueOrDefault(series);

    [Fact]
    public async Task Operations_replays_and_watchers_are_measured_on_the_groundwork_meter()
    {
        var tenant = await fixture.NewTenantAsync();
        using (ClusterFixture.As(tenant.OwnerKey))
        {
            var list = fixture.Client.GetList(tenant.ListKey());
            await list.CreateAsync("Measured");
            Listen();

            await list.AddItemAsync(new NewItem("a"), options: new MutationOptions(OperationId: "m-1"));
            await list.AddItemAsync(new NewItem("a"), options: new MutationOptions(OperationId: "m-1"));
            await Assert.ThrowsAsync<VersionConflictException>(() => list.RenameAsync("x", new MutationOptions(ExpectedVersion: 1)));
            Assert.True(Total("groundwork.operations{kind=add-item,outcome=ok}") >= 1);
            Assert.True(Total("groundwork.operations{kind=add-item,outcome=replayed}") >= 1);
            Assert.True(Total("groundwork.operations{kind=rename,outcome=conflict}") >= 1);
            Assert.True(Total("groundwork.idempotent.replays{}") >= 1);

            await using (var feed = list.WatchAsync(0).GetAsyncEnumerator())
            {
                await feed.TakeAsync(1);
                Assert.True(Total("groundwork.feed.watchers+{}") >= 1);
            }
        }
    }

    [Fact]
    public async Task Feed_lag_is_measured_for_live_changes_and_not_for_replayed_history()
    {
        var tenant = await fixture.NewTenantAsync();
        using (ClusterFixture.As(tenant.OwnerKey))
        {
            var list = fixture.Client.GetList(tenant.ListKey());
            await list.CreateAsync("Lagging");
            await list.AddItemAsync(new NewItem("history"));
            Listen();

            await using var feed = list.WatchAsync(0).GetAsyncEnumerator();
            await feed.TakeAsync(2);
            Assert.Equal(0, Total("groundwork.feed.lag#count"));

            await list.AddItemAsync(new NewItem("live"));
            await feed.TakeAsync(1);
            Assert.True(Total("groundwork.feed.lag#count") >= 1, "a live change handed to a watcher records its lag");
            Assert.InRange(_lastValues["groundwork.feed.lag"], 0, 30_000);
        }
    }
}
