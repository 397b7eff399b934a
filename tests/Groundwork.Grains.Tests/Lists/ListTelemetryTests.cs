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
}
