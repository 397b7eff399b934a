using Groundwork.Access;
using Groundwork.Chat;
using Groundwork.Client;
using Groundwork.Testing;
using Xunit;

namespace Groundwork.Grains.Tests.Chat;

/// <summary>
/// A client's watchers of one resource share one stream from the relay (<see cref="IFeedRelay{TChange}.WatchSharedAsync"/>,
/// through <see cref="ResourceFeed.WatchFeedAsync{TChange}"/>): each still sees what the resource's own feed gives, and
/// each is admitted and judged under its own key.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class SharedWatchTests(ClusterFixture fixture)
{
    private IFeedRelay<ChannelChange> Relay(TestChannel c) => fixture.Client.GetGrain<IFeedRelay<ChannelChange>>(c.Key);

    /// <summary>A watch through the client's share, started (at its first read) with <paramref name="key"/>.</summary>
    private (IAsyncEnumerator<ChannelChange> Feed, Task<bool> First) Watch(TestChannel c, string key, long after)
    {
        var feed = fixture.Client.WatchFeedAsync<ChannelChange>(c.Key, after).GetAsyncEnumerator();
        using (ClusterFixture.As(key))
        {
            return (feed, feed.MoveNextAsync().AsTask());
        }
    }

    private static async Task<long> VersionAsync(TestChannel c)
    {
        using (ClusterFixture.As(c.OwnerKey))
        {
            return (await c.Channel.GetAsync()).Version;
        }
    }

    [Fact]
    public async Task Watchers_sharing_a_stream_each_see_every_change_once_in_the_order_of_the_channels_own_feed()
    {
        var c = await fixture.NewChannelAsync();
        var start = await VersionAsync(c);
        const int PerPoster = 15;
        using (ClusterFixture.As(c.AnnKey))
        {
            await using var own = c.Channel.WatchAsync(start).GetAsyncEnumerator();
            var watchers = new[] { c.AnnKey, c.BobKey, c.OwnerKey, c.AnnKey }.Select(key => Watch(c, key, start)).ToList();
            try
            {
                var posters = new[] { c.AnnKey, c.BobKey, c.OwnerKey }.Select(key => Task.Run(() => c.PostAsync(key, PerPoster, key[..6])));
                var direct = own.TakeAsync(3 * PerPoster);
                var reads = watchers.Select(async w =>
                {
                    Assert.True(await w.First.WaitAsync(AsyncEnumeratorExtensions.DefaultTimeout));
                    return new[] { w.Feed.Current }.Concat(await w.Feed.TakeAsync(3 * PerPoster - 1)).ToList();
                }).ToList();
                await Task.WhenAll(posters);
                var expected = (await direct).Select(x => (x.Sequence, x.Message!.Text)).ToList();
                Assert.Equal(Enumerable.Range((int)start + 1, 3 * PerPoster).Select(i => (long)i), expected.Select(x => x.Sequence));
                foreach (var read in reads)
                {
                    Assert.Equal(expected, (await read).Select(x => (x.Sequence, x.Message!.Text)));
                }
            }
            finally
            {
                foreach (var (feed, _) in watchers)
                {
                    await feed.DisposeAsync();
                }
            }
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_watcher_of_a_share_that_the_channel_refuses_ends_there_while_the_others_go_on(bool bobOpensTheShare)
    {
        var c = await fixture.NewChannelAsync(isPrivate: true);
        var carol = await c.Tenant.MemberKeyAsync("carol", TenantRole.Member);
        var start = await VersionAsync(c);
        var (first, firstRead) = Watch(c, bobOpensTheShare ? c.BobKey : c.AnnKey, start);
        var (second, secondRead) = Watch(c, bobOpensTheShare ? c.AnnKey : c.BobKey, start);
        var (bob, bobRead, ann, annRead) = bobOpensTheShare ? (first, firstRead, second, secondRead) : (second, secondRead, first, firstRead);
        await using var bobFeed = bob;
        await using var annFeed = ann;

        // Carol is a tenant member but not the private channel's: the share does not let her in.
        var (carolFeed, carolRead) = Watch(c, carol, start);
        await using (carolFeed)
        {
            Assert.Equal(AccessDenialReason.NotOnAccessList, (await Assert.ThrowsAsync<AccessDeniedException>(async () => await carolRead)).Reason);
        }

        await c.PostAsync(c.AnnKey, 1, "before");
        Assert.True(await bobRead);
        Assert.Equal("before 0", bob.Current.Message!.Text);
        Assert.True(await annRead);
        var annReads = ann.TakeAsync(2);
        using (ClusterFixture.As(c.OwnerKey))
        {
            await c.Channel.RemoveMemberAsync("bob");
        }

        await c.PostAsync(c.AnnKey, 1, "after");
        var removed = await Assert.ThrowsAsync<AccessDeniedException>(async () => await bob.MoveNextAsync());
        Assert.Equal(AccessDenialReason.NotOnAccessList, removed.Reason);
        Assert.Equal([ChannelChangeKind.MemberRemoved, ChannelChangeKind.Posted], (await annReads).Select(x => x.Kind));
        Assert.Equal("after 0", ann.Current.Message!.Text);

        // The share goes on for ann (reopened with her key when bob's was the one it was opened with).
        await c.PostAsync(c.AnnKey, 1, "later");
        Assert.Equal("later 0", (await ann.TakeAsync(1))[0].Message!.Text);
    }

    [Fact]
    public async Task A_watcher_that_joins_a_share_with_an_older_cursor_catches_up_without_a_gap_or_a_repeat()
    {
        var c = await fixture.NewChannelAsync();
        var start = await VersionAsync(c);
        await c.PostAsync(c.BobKey, 3, "early");
        var (ann, annRead) = Watch(c, c.AnnKey, start + 3);
        await using var annFeed = ann;
        await c.PostAsync(c.BobKey, 2, "mid");
        Assert.True(await annRead);

        // Bob's cursor is older than anything the share has: he reads through a watch of his own until he has caught up.
        var (bob, bobRead) = Watch(c, c.BobKey, start);
        await using var bobFeed = bob;
        Assert.True(await bobRead);
        var bobSeen = new List<ChannelChange> { bob.Current };
        bobSeen.AddRange(await bob.TakeAsync(4));
        var posted = c.PostAsync(c.AnnKey, 6, "late");
        bobSeen.AddRange(await bob.TakeAsync(6));
        var annSeen = new List<ChannelChange> { ann.Current };
        annSeen.AddRange(await ann.TakeAsync(7));
        await posted;
        Assert.Equal(Enumerable.Range((int)start + 1, 11).Select(i => (long)i), bobSeen.Select(x => x.Sequence));
        Assert.Equal(Enumerable.Range((int)start + 4, 8).Select(i => (long)i), annSeen.Select(x => x.Sequence));
    }

    [Fact]
    public async Task A_raw_client_is_admitted_to_a_share_only_with_a_key_that_reads_and_cannot_dismiss_another_principal()
    {
        var c = await fixture.NewChannelAsync(isPrivate: true);
        var carol = await c.Tenant.MemberKeyAsync("carol", TenantRole.Member);
        var other = await fixture.NewTenantAsync();
        var start = await VersionAsync(c);
        var share = Guid.NewGuid();
        await using var stream = Relay(c).WatchSharedAsync(share, start).GetAsyncEnumerator();
        using (ClusterFixture.As(c.AnnKey))
        {
            Assert.True(await stream.MoveNextAsync());
            Assert.True(stream.Current.IsOpened);
            await using var twice = Relay(c).WatchSharedAsync(share, start).GetAsyncEnumerator();
            Assert.Equal("share", (await Assert.ThrowsAsync<InvalidRequestException>(async () => await twice.MoveNextAsync())).Field);
            await Assert.ThrowsAsync<EnumerationAbortedException>(() => Relay(c).AdmitAsync(Guid.NewGuid(), Guid.NewGuid()));
        }

        var bobWatcher = Guid.NewGuid();
        using (ClusterFixture.As(carol))
        {
            Assert.Equal(AccessDenialReason.NotOnAccessList, (await Assert.ThrowsAsync<AccessDeniedException>(() => Relay(c).AdmitAsync(share, Guid.NewGuid()))).Reason);
        }

        using (ClusterFixture.As(other.OwnerKey))
        {
            Assert.Equal(AccessDenialReason.WrongTenant, (await Assert.ThrowsAsync<AccessDeniedException>(() => Relay(c).AdmitAsync(share, Guid.NewGuid()))).Reason);
        }

        using (ClusterFixture.As(c.BobKey))
        {
            await Relay(c).AdmitAsync(share, bobWatcher);
            await Relay(c).AdmitAsync(share, bobWatcher);
        }

        using (ClusterFixture.As(c.AnnKey))
        {
            // Not bob's principal: the relay keeps judging bob's watcher.
            await Relay(c).DismissAsync(share, bobWatcher);
        }

        using (ClusterFixture.As(c.OwnerKey))
        {
            await c.Channel.RemoveMemberAsync("bob");
        }

        await c.PostAsync(c.AnnKey, 1, "after");
        var items = new List<SharedDelivery<ChannelChange>>();
        using (ClusterFixture.As(c.AnnKey))
        {
            while (items.All(d => d.Change?.Kind != ChannelChangeKind.Posted))
            {
                items.AddRange(await stream.TakeAsync(1));
            }
        }

        // Bob's verdict comes before the change that removed him, and nothing after it is his.
        var verdict = items.FindIndex(d => d.Refused is not null);
        Assert.True(verdict >= 0, "no verdict for bob's watcher");
        Assert.Equal(AccessDenialReason.NotOnAccessList, items[verdict].Refused![bobWatcher].Reason);
        Assert.True(verdict < items.FindIndex(d => d.Change?.Kind == ChannelChangeKind.MemberRemoved));
        Assert.Equal("after 0", items[^1].Change!.Message!.Text);
    }

    [Fact]
    public async Task When_the_watcher_whose_key_opened_the_share_leaves_another_reopens_it_and_nothing_is_lost_or_repeated()
    {
        var c = await fixture.NewChannelAsync();
        var start = await VersionAsync(c);
        var (ann, annRead) = Watch(c, c.AnnKey, start);
        var (bob, bobRead) = Watch(c, c.BobKey, start);
        await using var bobFeed = bob;
        await c.PostAsync(c.OwnerKey, 1, "first");
        Assert.True(await annRead);
        Assert.True(await bobRead);
        await ann.DisposeAsync();

        // Ann's key carried the stream; bob's takes over and he is admitted again, between these posts.
        var posted = c.PostAsync(c.OwnerKey, 6, "next");
        var seen = new List<ChannelChange> { bob.Current };
        seen.AddRange(await bob.TakeAsync(6));
        await posted;
        Assert.Equal(Enumerable.Range((int)start + 1, 7).Select(i => (long)i), seen.Select(x => x.Sequence));
    }

    [Fact]
    public async Task A_member_is_judged_on_a_share_that_reads_through_a_follow_of_its_own_and_a_dismissed_one_no_longer()
    {
        var c = await fixture.NewChannelAsync(isPrivate: true);
        var start = await VersionAsync(c);

        // Another watcher keeps the relay's follow at the head; 8 posts later its buffer (5 here) no longer holds the
        // share's cursor, so the share starts on a follow of its own.
        await using var keeper = Relay(c).WatchAsync(start).GetAsyncEnumerator();
        using (ClusterFixture.As(c.OwnerKey))
        {
            var keeps = keeper.TakeAsync(8);
            await c.PostAsync(c.AnnKey, 8, "early");
            await keeps;
        }

        var share = Guid.NewGuid();
        await using var stream = Relay(c).WatchSharedAsync(share, start).GetAsyncEnumerator();
        var (bobWatcher, annWatcher) = (Guid.NewGuid(), Guid.NewGuid());
        using (ClusterFixture.As(c.OwnerKey))
        {
            Assert.True(await stream.MoveNextAsync());
            Assert.True(stream.Current.IsOpened);
        }

        using (ClusterFixture.As(c.BobKey))
        {
            await Relay(c).AdmitAsync(share, bobWatcher);
        }

        using (ClusterFixture.As(c.AnnKey))
        {
            await Relay(c).AdmitAsync(share, annWatcher);
            await Relay(c).DismissAsync(share, annWatcher);
        }

        using (ClusterFixture.As(c.OwnerKey))
        {
            await c.Channel.RemoveMemberAsync("bob");
            await c.Channel.RemoveMemberAsync("ann");
        }

        var items = new List<SharedDelivery<ChannelChange>>();
        using (ClusterFixture.As(c.OwnerKey))
        {
            while (items.Count(d => d.Change?.Kind == ChannelChangeKind.MemberRemoved) < 2)
            {
                items.AddRange(await stream.TakeAsync(1));
            }
        }

        Assert.Equal(Enumerable.Range((int)start + 1, 10).Select(i => (long)i), items.Where(d => d.Change is not null).Select(d => d.Change!.Sequence));
        var verdicts = items.Where(d => d.Refused is not null).SelectMany(d => d.Refused!.Keys).ToList();
        Assert.Equal([bobWatcher], verdicts);
        Assert.True(items.FindIndex(d => d.Refused is not null) < items.FindIndex(d => d.Change?.Kind == ChannelChangeKind.MemberRemoved));
    }
}
