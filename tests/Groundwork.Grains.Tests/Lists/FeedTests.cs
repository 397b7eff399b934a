using Groundwork.Client;
using Groundwork.Lists;
using Groundwork.Testing;
using Xunit;

namespace Groundwork.Grains.Tests.Lists;

[Collection(ClusterCollection.Name)]
public sealed class FeedTests(ClusterFixture fixture)
{
    private static void AssertConsecutive(IEnumerable<ListChange> changes, long first)
    {
        var sequences = changes.Select(c => c.Sequence).ToList();
        Assert.Equal(Enumerable.Range((int)first, sequences.Count).Select(i => (long)i), sequences);
    }

    [Fact]
    public async Task Watching_replays_retained_changes_then_delivers_live_ones_in_order()
    {
        var (_, list, ownerKey) = await fixture.NewListAsync("Feed");
        using (ClusterFixture.As(ownerKey))
        {
            await list.AddItemAsync(new NewItem("a"));
            await list.AddItemAsync(new NewItem("b"));
            await using var feed = list.WatchAsync(0).GetAsyncEnumerator();
            var replayed = await feed.TakeAsync(3);
            Assert.Equal([ListChangeKind.ListCreated, ListChangeKind.ItemAdded, ListChangeKind.ItemAdded], replayed.Select(c => c.Kind));
            AssertConsecutive(replayed, 1);

            var added = await list.AddItemAsync(new NewItem("c"), position: 0);
            await list.CompleteItemAsync(added.Id!);
            var live = await feed.TakeAsync(2);
            AssertConsecutive(live, 4);
            Assert.Equal((ListChangeKind.ItemAdded, 0, "c"), (live[0].Kind, live[0].Position, live[0].Item!.Title));
            Assert.Equal((ListChangeKind.ItemCompleted, true), (live[1].Kind, live[1].Item!.Done));
            Assert.Equal("owner", live[1].By);
        }
    }

    [Fact]
    public async Task Watching_from_a_snapshot_version_delivers_only_later_changes()
    {
        var (_, list, ownerKey) = await fixture.NewListAsync("Feed");
        using (ClusterFixture.As(ownerKey))
        {
            await list.AddItemAsync(new NewItem("a"));
            var snapshot = await list.GetAsync();
            await using var feed = list.WatchAsync(snapshot.Version).GetAsyncEnumerator();
            await list.RenameAsync("Renamed");
            var change = Assert.Single(await feed.TakeAsync(1));
            Assert.Equal((snapshot.Version + 1, ListChangeKind.ListRenamed, "Renamed"), (change.Sequence, change.Kind, change.Title));
        }
    }

    [Fact]
    public async Task Many_concurrent_writers_produce_a_feed_without_gaps()
    {
        var (_, list, ownerKey) = await fixture.NewListAsync("Feed");
        using (ClusterFixture.As(ownerKey))
        {
            await using var feed = list.WatchAsync(1).GetAsyncEnumerator();
            await Task.WhenAll(Enumerable.Range(0, 40).Select(i => list.AddItemAsync(new NewItem($"item {i}"))));
            var changes = await feed.TakeAsync(40);
            AssertConsecutive(changes, 2);
        }
    }

    [Fact]
    public async Task A_cursor_older_than_retention_is_told_to_resync_and_the_oldest_retained_still_works()
    {
        var (_, list, ownerKey) = await fixture.NewListAsync("Feed");
        using (ClusterFixture.As(ownerKey))
        {
            for (var i = 0; i < 60; i++)
            {
                await list.AddItemAsync(new NewItem($"item {i}"));
            }

            var retention = int.Parse(ClusterFixture.Settings["Groundwork:Lists:FeedRetention"]!, System.Globalization.CultureInfo.InvariantCulture);
            var version = (await list.GetAsync()).Version;
            var oldest = version - retention + 1;
            var error = await Assert.ThrowsAsync<ResyncRequiredException>(async () =>
            {
                await foreach (var _ in list.WatchAsync(oldest - 2))
                {
                }
            });
            Assert.Equal((oldest, version), (error.OldestRetained, error.CurrentVersion));

            await using var feed = list.WatchAsync(oldest - 1).GetAsyncEnumerator();
            AssertConsecutive(await feed.TakeAsync(retention), oldest);
        }
    }

    [Fact]
    public async Task A_cursor_past_the_current_version_is_told_to_resync()
    {
        var (_, list, ownerKey) = await fixture.NewListAsync("Feed");
        using (ClusterFixture.As(ownerKey))
        {
            await using var feed = list.WatchAsync(5).GetAsyncEnumerator();
            await Assert.ThrowsAsync<ResyncRequiredException>(async () => await feed.MoveNextAsync());
        }
    }

    [Fact]
    public async Task A_negative_cursor_is_an_invalid_request_not_a_resync()
    {
        var (_, list, ownerKey) = await fixture.NewListAsync("Feed");
        using (ClusterFixture.As(ownerKey))
        {
            await using var feed = list.WatchAsync(-1).GetAsyncEnumerator();
            var error = await Assert.ThrowsAsync<InvalidRequestException>(async () => await feed.MoveNextAsync());
            Assert.Equal("afterSequence", error.Field);
        }
    }

    [Fact]
    public async Task A_watcher_resumes_after_deactivation_with_nothing_lost_or_repeated()
    {
        var (key, list, ownerKey) = await fixture.NewListAsync("Feed");
        using (ClusterFixture.As(ownerKey))
        {
            await using var feed = fixture.Client.WatchListAsync(key, 0).GetAsyncEnumerator();
            AssertConsecutive(await feed.TakeAsync(1), 1);
            await list.AddItemAsync(new NewItem("before"));
            AssertConsecutive(await feed.TakeAsync(1), 2);

            await fixture.Cluster.DeactivateAsync(list);
            await list.AddItemAsync(new NewItem("after 1"));
            await list.AddItemAsync(new NewItem("after 2"));
            var resumed = await feed.TakeAsync(2);
            AssertConsecutive(resumed, 3);
            Assert.Equal(["after 1", "after 2"], resumed.Select(c => c.Item!.Title));
        }
    }

    [Fact]
    public async Task A_watcher_resumes_after_the_hosting_silo_is_killed_with_nothing_lost_or_repeated()
    {
        var cluster = fixture.Cluster;
        var primary = cluster.Silos[0].SiloAddress;
        var management = fixture.Client.GetGrain<IManagementGrain>(0);
        string key, ownerKey;
        IListGrain list;
        SiloAddress? host;
        var attempts = 0;
        do
        {
            // Kill a silo that is not the primary (which holds the test cluster's membership): take a list placed elsewhere.
            (key, list, ownerKey) = await fixture.NewListAsync("Feed");
            using (ClusterFixture.As(fixture.OperatorKey))
            {
                host = await management.GetActivationAddress(list);
            }
        }
        while ((host is null || host.Equals(primary)) && ++attempts < 40);

        Assert.NotNull(host);
        Assert.NotEqual(primary, host);
        var hosting = cluster.Silos.Single(s => s.SiloAddress.Equals(host));
        using (ClusterFixture.As(ownerKey))
        {
            await using var feed = fixture.Client.WatchListAsync(key, 0).GetAsyncEnumerator();
            AssertConsecutive(await feed.TakeAsync(1), 1);
            var acknowledged = new List<long> { (await list.AddItemAsync(new NewItem("before kill"))).Version };

            try
            {
                await cluster.KillSiloAsync(hosting);
                using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
                for (var i = 0; i < 3; i++)
                {
                    acknowledged.Add(await RetryAsync(() => list.AddItemAsync(new NewItem($"after kill {i}"), options: new MutationOptions(OperationId: $"k{i}")), deadline.Token));
                }

                var delivered = await feed.TakeAsync(acknowledged.Count, TimeSpan.FromSeconds(60));
                AssertConsecutive(delivered, 2);
                Assert.Equal(acknowledged, delivered.Select(c => c.Sequence));
            }
            finally
            {
                await cluster.StartAdditionalSiloAsync();
                await cluster.WaitForLivenessToStabilizeAsync();
            }
        }
    }

    private static async Task<long> RetryAsync(Func<Task<MutationResult>> mutation, CancellationToken deadline)
    {
        while (true)
        {
            try
            {
                return (await mutation()).Version;
            }
            catch (Exception exception) when (ListFeed.IsTransient(exception) && !deadline.IsCancellationRequested)
            {
                await Task.Delay(100, deadline);
            }
        }
    }
}
