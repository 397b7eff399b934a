using Groundwork.Access;
using Groundwork.Chat;
using Groundwork.Client;
using Groundwork.Grains.Resources;
using Groundwork.Lists;
using Groundwork.Testing;
using Xunit;

namespace Groundwork.Grains.Tests.Chat;

/// <summary>
/// Watching through a silo's feed relay (<see cref="IFeedRelay{TChange}"/>) delivers what the resource's own feed does,
/// and the resource still decides who reads. The fixture's relays keep 5 changes, so longer runs take the path of a
/// watcher that is behind the relay's buffer.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class RelayTests(ClusterFixture fixture)
{
    private IFeedRelay<ChannelChange> Relay(TestChannel c) => fixture.Client.GetGrain<IFeedRelay<ChannelChange>>(c.Key);

    /// <summary>
    /// Bob and ann watch through the relay from <paramref name="start"/> (a feed's enumeration starts, with the caller's
    /// key, at its first MoveNextAsync); ann reads <paramref name="annTakes"/> changes, so the relay's follow goes on
    /// if bob is refused. Returns once bob has received ann's "before 0".
    /// </summary>
    private async Task<(IAsyncEnumerator<ChannelChange> Bob, IAsyncEnumerator<ChannelChange> Ann, Task<List<ChannelChange>> AnnReads)> BobAndAnnWatchAsync(
        TestChannel c, long start, int annTakes)
    {
        var bob = Relay(c).WatchAsync(start).GetAsyncEnumerator();
        var ann = Relay(c).WatchAsync(start).GetAsyncEnumerator();
        ValueTask<bool> bobFirst;
        Task<List<ChannelChange>> annReads;
        using (ClusterFixture.As(c.BobKey))
        {
            bobFirst = bob.MoveNextAsync();
        }

        using (ClusterFixture.As(c.AnnKey))
        {
            annReads = ann.TakeAsync(annTakes);
        }

        await c.PostAsync(c.AnnKey, 1, "before");
        Assert.True(await bobFirst);
        Assert.Equal("before 0", bob.Current.Message!.Text);
        return (bob, ann, annReads);
    }

    [Fact]
    public async Task Relay_watchers_see_every_change_once_in_the_order_of_the_channels_own_feed()
    {
        var c = await fixture.NewChannelAsync();
        long start;
        using (ClusterFixture.As(c.OwnerKey))
        {
            start = (await c.Channel.GetAsync()).Version;
        }

        const int PerPoster = 15;
        List<ChannelChange> direct, ann, bob;
        using (ClusterFixture.As(c.AnnKey))
        {
            await using var own = c.Channel.WatchAsync(start).GetAsyncEnumerator();
            await using var a = Relay(c).WatchAsync(start).GetAsyncEnumerator();
            using (ClusterFixture.As(c.BobKey))
            {
                await using var b = Relay(c).WatchAsync(start).GetAsyncEnumerator();
                var posters = new[] { c.AnnKey, c.BobKey, c.OwnerKey }.Select(key => Task.Run(() => c.PostAsync(key, PerPoster, key[..6])));
                var reads = new[] { own, a, b }.Select(feed => feed.TakeAsync(3 * PerPoster)).ToList();
                await Task.WhenAll(posters);
                (direct, ann, bob) = (await reads[0], await reads[1], await reads[2]);
            }
        }

        Assert.Equal(Enumerable.Range((int)start + 1, 3 * PerPoster).Select(i => (long)i), direct.Select(x => x.Sequence));
        Assert.Equal(direct.Select(x => (x.Sequence, x.Message!.Text)), ann.Select(x => (x.Sequence, x.Message!.Text)));
        Assert.Equal(direct.Select(x => (x.Sequence, x.Message!.Text)), bob.Select(x => (x.Sequence, x.Message!.Text)));
    }

    [Fact]
    public async Task A_watcher_that_starts_behind_the_relays_buffer_or_reconnects_mid_burst_misses_nothing()
    {
        var c = await fixture.NewChannelAsync();
        using (ClusterFixture.As(c.AnnKey))
        {
            var start = (await c.Channel.GetAsync()).Version;
            await using var first = Relay(c).WatchAsync(start).GetAsyncEnumerator();
            var early = first.TakeAsync(12);
            await c.PostAsync(c.BobKey, 12);
            Assert.Equal(12, (await early).Count);

            // The relay now keeps only the last 5 of those 12.
            await using (var late = Relay(c).WatchAsync(start).GetAsyncEnumerator())
            {
                Assert.Equal(Enumerable.Range((int)start + 1, 12).Select(i => (long)i), (await late.TakeAsync(12)).Select(x => x.Sequence));
            }

            var burst = Task.Run(() => c.PostAsync(c.BobKey, 20));
            var seen = new List<ChannelChange>();
            await foreach (var change in fixture.Client.WatchFeedAsync<ChannelChange>(c.Key, start + 12))
            {
                seen.Add(change);
                if (seen.Count == 8)
                {
                    break;
                }
            }

            await foreach (var change in fixture.Client.WatchFeedAsync<ChannelChange>(c.Key, seen[^1].Sequence))
            {
                seen.Add(change);
                if (seen.Count == 20)
                {
                    break;
                }
            }

            await burst;
            Assert.Equal(Enumerable.Range((int)start + 13, 20).Select(i => (long)i), seen.Select(x => x.Sequence));
        }
    }

    [Fact]
    public async Task The_channel_decides_who_reads_through_the_relay_and_a_removed_member_gets_nothing_more()
    {
        var c = await fixture.NewChannelAsync(isPrivate: true);
        var carol = await c.Tenant.MemberKeyAsync("carol", TenantRole.Member);
        long start;
        using (ClusterFixture.As(c.OwnerKey))
        {
            start = (await c.Channel.GetAsync()).Version;
        }

        using (ClusterFixture.As(carol))
        {
            await using var refused = Relay(c).WatchAsync(start).GetAsyncEnumerator();
            var denied = await Assert.ThrowsAsync<AccessDeniedException>(async () => await refused.MoveNextAsync());
            Assert.Equal(AccessDenialReason.NotOnAccessList, denied.Reason);
        }

        var other = await fixture.NewTenantAsync();
        using (ClusterFixture.As(other.OwnerKey))
        {
            await using var foreign = Relay(c).WatchAsync(start).GetAsyncEnumerator();
            Assert.Equal(AccessDenialReason.WrongTenant, (await Assert.ThrowsAsync<AccessDeniedException>(async () => await foreign.MoveNextAsync())).Reason);
        }

        var (bob, ann, annReads) = await BobAndAnnWatchAsync(c, start, annTakes: 3);
        await using var bobFeed = bob;
        await using var annFeed = ann;
        using (ClusterFixture.As(c.OwnerKey))
        {
            await c.Channel.RemoveMemberAsync("bob");
        }

        await c.PostAsync(c.AnnKey, 1, "after");
        using (ClusterFixture.As(c.BobKey))
        {
            var removed = await Assert.ThrowsAsync<AccessDeniedException>(async () => await bob.MoveNextAsync());
            Assert.Equal(AccessDenialReason.NotOnAccessList, removed.Reason);
        }

        Assert.Equal([ChannelChangeKind.Posted, ChannelChangeKind.MemberRemoved, ChannelChangeKind.Posted], (await annReads).Select(x => x.Kind));
    }

    [Fact]
    public async Task After_the_channel_moves_the_relay_tells_it_its_readers_again_and_a_removed_member_is_still_cut_off()
    {
        var c = await fixture.NewChannelAsync(isPrivate: true);
        long start;
        using (ClusterFixture.As(c.OwnerKey))
        {
            start = (await c.Channel.GetAsync()).Version;
        }

        var (bob, ann, annReads) = await BobAndAnnWatchAsync(c, start, annTakes: 4);
        await using var bobFeed = bob;
        await using var annFeed = ann;

        // A new activation of the channel knows nothing of the relay's follow or its readers.
        await fixture.Cluster.DeactivateAsync(c.Channel);
        await c.PostAsync(c.AnnKey, 1, "moved");
        using (ClusterFixture.As(c.BobKey))
        {
            Assert.True(await bob.MoveNextAsync());
            Assert.Equal("moved 0", bob.Current.Message!.Text);
        }

        using (ClusterFixture.As(c.OwnerKey))
        {
            await c.Channel.RemoveMemberAsync("bob");
        }

        await c.PostAsync(c.AnnKey, 1, "after");
        using (ClusterFixture.As(c.BobKey))
        {
            Assert.Equal(AccessDenialReason.NotOnAccessList, (await Assert.ThrowsAsync<AccessDeniedException>(async () => await bob.MoveNextAsync())).Reason);
        }

        Assert.Equal(["before 0", "moved 0", null, "after 0"], (await annReads).Select(x => x.Message?.Text));
    }

    [Fact]
    public async Task A_cursor_past_the_channels_version_is_a_resync_through_the_relay_too()
    {
        var c = await fixture.NewChannelAsync();
        using (ClusterFixture.As(c.AnnKey))
        {
            var version = (await c.Channel.GetAsync()).Version;

            // The first watcher starts the relay's follow at its cursor; a later one finds the follow behind it.
            await using var first = Relay(c).WatchAsync(version + 100).GetAsyncEnumerator();
            await Assert.ThrowsAsync<ResyncRequiredException>(async () => await first.MoveNextAsync());
            await using var watching = Relay(c).WatchAsync(version).GetAsyncEnumerator();
            var next = watching.MoveNextAsync();
            await using var ahead = Relay(c).WatchAsync(version + 100).GetAsyncEnumerator();
            await Assert.ThrowsAsync<ResyncRequiredException>(async () => await ahead.MoveNextAsync());
            await c.PostAsync(c.BobKey, 1);
            Assert.True(await next);
        }
    }

    [Fact]
    public async Task A_client_cannot_reach_the_relays_side_of_a_resource()
    {
        var c = await fixture.NewChannelAsync();
        using (ClusterFixture.As(c.OwnerKey))
        {
            var source = c.Channel.AsReference<IFeedRelaySource>();
            var refused = await Assert.ThrowsAsync<AccessDeniedException>(() => source.NextAsync(Guid.NewGuid(), 0, 0));
            Assert.Equal(AccessDenialReason.UndeclaredMethod, refused.Reason);
            var forged = new RelayReader(0, new Groundwork.Grains.Access.Caller(c.Tenant.Id, "mallory", TenantRole.Owner, IsOperator: true));
            await Assert.ThrowsAsync<AccessDeniedException>(() => source.SetReadersAsync(Guid.NewGuid(), 1, reset: true, [forged], []));
        }
    }

    [Fact]
    public async Task Every_building_block_has_a_relay_a_list_too()
    {
        var (_, list, ownerKey) = await fixture.NewListAsync("Relayed");
        using (ClusterFixture.As(ownerKey))
        {
            await using var feed = fixture.Client.WatchFeedAsync<ListChange>(list.GetPrimaryKeyString(), 0).GetAsyncEnumerator();
            await list.AddItemAsync(new NewItem("a"));
            Assert.Equal([ListChangeKind.ListCreated, ListChangeKind.ItemAdded], (await feed.TakeAsync(2)).Select(x => x.Kind));
        }
    }
}
