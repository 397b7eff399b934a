using System.Diagnostics;
using System.Diagnostics.Metrics;
using Groundwork.Lists;
using Groundwork.Tenants;
using Groundwork.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Groundwork.Grains.Tests.Kit;

[Collection(KitCollection.Name)]
public sealed class KitTests(KitFixture kit, ITestOutputHelper output)
{
    private ClusterFixture Fixture => kit.Cluster;

    [Fact]
    public async Task An_operation_id_is_remembered_through_the_next_thousand_operations_even_outside_the_window()
    {
        // The window is zero here, so only IdempotencyMinEntries keeps ids: with it at 0 this test fails.
        var (list, ownerKey) = await Fixture.NewListAsync("List");
        using (ClusterFixture.As(ownerKey))
        {
            var id = (await list.AddItemAsync(new NewItem("a"))).Id!;
            var results = new List<MutationResult>();
            for (var i = 0; i < 1_001; i++)
            {
                var edit = i % 2 == 0 ? list.CompleteItemAsync(id, new MutationOptions(OperationId: $"op-{i}"))
                                      : list.ReopenItemAsync(id, new MutationOptions(OperationId: $"op-{i}"));
                results.Add(await edit);
            }

            var version = (await list.GetAsync()).Version;
            // op-1 is followed by op-2 .. op-1000: it is one of the last 1,000 and must still be answered.
            var oldestKept = await list.ReopenItemAsync(id, new MutationOptions(OperationId: "op-1"));
            Assert.True(oldestKept.Replayed);
            Assert.Equal(results[1].Version, oldestKept.Version);
            Assert.Equal(version, (await list.GetAsync()).Version);

            // op-0 is the 1,001st newest: outside the minimum and the window, it is forgotten and applies again.
            var forgotten = await list.CompleteItemAsync(id, new MutationOptions(OperationId: "op-0"));
            Assert.False(forgotten.Replayed);
            Assert.Equal(version + 1, forgotten.Version);
        }
    }

    [Fact]
    [Trait("Category", "Slo")]
    public async Task A_thousand_lists_created_at_once_in_one_tenant_all_appear_in_its_directory_within_seconds()
    {
        var tenant = await Fixture.NewTenantAsync();
        var keys = Enumerable.Range(0, 1_000).Select(i => $"{tenant.Id}/list/l{i:D4}").ToArray();
        var clock = Stopwatch.StartNew();
        using (ClusterFixture.As(tenant.OwnerKey))
        {
            await Task.WhenAll(keys.Select(k => Fixture.Client.GetList(k).CreateAsync("List " + k[^4..])));
        }

        var created = clock.Elapsed;
        var bound = TimeSpan.FromSeconds(30);
        var deadline = DateTime.UtcNow + bound;
        IReadOnlyList<ResourceEntry> entries;
        using (ClusterFixture.As(tenant.OwnerKey))
        {
            do
            {
                entries = await Fixture.Client.GetTenantDirectory(tenant.Id).ListAsync();
                if (entries.Count == keys.Length)
                {
                    break;
                }

                await Task.Delay(50);
            }
            while (DateTime.UtcNow < deadline);
        }

        var listed = clock.Elapsed;
        output.WriteLine($"created in {created.TotalSeconds:F2} s, all listed after {listed.TotalSeconds:F2} s (bound {bound.TotalSeconds} s, margin {(bound - (listed - created)).TotalSeconds:F1} s)");
        Assert.Equal(keys, entries.Select(e => e.Key));
    }

    [Fact]
    public async Task Many_watchers_with_one_key_share_its_re_verification()
    {
        var (key, list, ownerKey) = await Fixture.NewListAsync("Watched");
        long verifications = 0;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Name == "groundwork.access.verifications")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref verifications, value));
        listener.Start();

        const int watchers = 200;
        using var stop = new CancellationTokenSource();
        var feeds = new List<IAsyncEnumerator<ListChange>>();
        var pending = new List<Task<bool>>();
        using (ClusterFixture.As(ownerKey))
        {
            for (var i = 0; i < watchers; i++)
            {
                var feed = list.WatchAsync(1, stop.Token).GetAsyncEnumerator(stop.Token);
                feeds.Add(feed);
                pending.Add(feed.MoveNextAsync().AsTask());
            }
        }

        // Three credential-cache periods with every watcher waiting: each re-verifies twice a period.
        var before = Interlocked.Read(ref verifications);
        await Task.Delay(TimeSpan.FromSeconds(3));
        var during = Interlocked.Read(ref verifications) - before;
        output.WriteLine($"{watchers} watchers over 3 s: {during} tenant verifications");

        // Each watcher asking alone would make about 6 x 200 = 1,200; shared, a handful. The meter is the process's,
        // and the other collection's tests verify keys meanwhile (up to about a hundred in 3 s), hence the margin.
        Assert.True(during < 400, $"{during} tenant verifications for {watchers} watchers of one key in three cache periods");
        using (ClusterFixture.As(ownerKey))
        {
            await list.AddItemAsync(new NewItem("wake"));
        }

        Assert.All(await Task.WhenAll(pending), Assert.True);
        await stop.CancelAsync();
        foreach (var feed in feeds)
        {
            await feed.DisposeAsync();
        }
    }
}
