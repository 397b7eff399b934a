using Groundwork.Chat;
using Groundwork.Testing;
using Xunit;

namespace Groundwork.Grains.Tests.Chat;

[Collection(ClusterCollection.Name)]
public sealed class UnreadAndFeedTests(ClusterFixture fixture)
{
    private static async Task<UnreadState> UnreadAsync(TestChannel c, string key)
    {
        using (ClusterFixture.As(key))
        {
            return await c.Channel.GetUnreadAsync();
        }
    }

    [Fact]
    public async Task Unread_counts_others_messages_after_the_marker_through_own_posts_replies_deletes_marks_and_a_restart()
    {
        var c = await fixture.NewChannelAsync();
        Assert.Equal(0, (await UnreadAsync(c, c.AnnKey)).Unread);

        var bobs = await c.PostAsync(c.BobKey, 3);
        Assert.Equal(3, (await UnreadAsync(c, c.AnnKey)).Unread);
        Assert.Equal(0, (await UnreadAsync(c, c.BobKey)).Unread);

        // Her own post marks the channel read up to it.
        var own = (await c.PostAsync(c.AnnKey, 1))[0];
        Assert.Equal((0, own), (await UnreadAsync(c, c.AnnKey)) is var s1 ? (s1.Unread, s1.ReadUpTo) : default);
        Assert.Equal(1, (await UnreadAsync(c, c.BobKey)).Unread);

        var later = await c.PostAsync(c.BobKey, 6);
        Assert.Equal(6, (await UnreadAsync(c, c.AnnKey)).Unread);

        using (ClusterFixture.As(c.BobKey))
        {
            // A delete takes the message out of the count; a reply in a thread, a reaction and an edit add nothing.
            await c.Channel.DeleteAsync(later[1]);
            await c.Channel.PostAsync(new NewMessage("in a thread", ReplyTo: bobs[0]));
            await c.Channel.ReactAsync(later[2], "👀");
            await c.Channel.EditAsync(later[3], "edited");
        }

        Assert.Equal(5, (await UnreadAsync(c, c.AnnKey)).Unread);

        using (ClusterFixture.As(c.AnnKey))
        {
            await c.Channel.MarkReadAsync(later[3]);
            Assert.Equal(2, (await c.Channel.GetUnreadAsync()).Unread);
            // The marker never moves back.
            await c.Channel.MarkReadAsync(later[0]);
            Assert.Equal((2, later[3]), (await c.Channel.GetUnreadAsync()) is var s2 ? (s2.Unread, s2.ReadUpTo) : default);

            var firstUnread = await c.Channel.GetHistoryAsync(new HistoryQuery(HistoryAnchor.FirstUnread, Limit: 10));
            Assert.Equal(later[4..], firstUnread.Messages.Select(m => m.Sequence));
        }

        await fixture.Cluster.DeactivateAsync(c.Channel);
        Assert.Equal(2, (await UnreadAsync(c, c.AnnKey)).Unread);
        using (ClusterFixture.As(c.AnnKey))
        {
            await c.Channel.MarkReadAsync(long.MaxValue);
            Assert.Equal(0, (await c.Channel.GetUnreadAsync()).Unread);
        }
    }

    [Fact]
    public async Task Unread_stays_exact_while_members_post_at_once()
    {
        var c = await fixture.NewChannelAsync();
        const int Each = 20;
        var posters = new[] { c.AnnKey, c.BobKey, c.OwnerKey }.Select(key => Task.Run(() => c.PostAsync(key, Each))).ToList();
        var posted = await Task.WhenAll(posters);
        using (ClusterFixture.As(c.OwnerKey))
        {
            // Each member has read up to their own last post: unread is what the others posted after it.
            var history = await c.Channel.AllMessagesAsync();
            foreach (var (key, mine) in new[] { (c.AnnKey, posted[0]), (c.BobKey, posted[1]), (c.OwnerKey, posted[2]) })
            {
                var expected = history.Count(m => m.Sequence > mine[^1]);
                Assert.Equal(expected, (await UnreadAsync(c, key)).Unread);
            }
        }
    }

    [Fact]
    public async Task Unread_adds_whole_pages_by_their_summaries_across_index_chunks()
    {
        var c = await fixture.NewChannelAsync();
        var posted = await c.PostAsync(c.BobKey, 45);
        using (ClusterFixture.As(c.BobKey))
        {
            foreach (var seq in posted.Where((_, i) => i % 3 == 0))
            {
                await c.Channel.DeleteAsync(seq);
            }
        }

        Assert.Equal(30, (await UnreadAsync(c, c.AnnKey)).Unread);
        using (ClusterFixture.As(c.AnnKey))
        {
            await c.Channel.MarkReadAsync(posted[10]);
        }

        Assert.Equal(posted.Skip(11).Where((_, i) => (i + 11) % 3 != 0).Count(), (await UnreadAsync(c, c.AnnKey)).Unread);
        await fixture.Cluster.DeactivateAsync(c.Channel);
        Assert.Equal(posted.Skip(11).Where((_, i) => (i + 11) % 3 != 0).Count(), (await UnreadAsync(c, c.AnnKey)).Unread);
    }

    [Fact]
    public async Task Mentions_are_counted_apart_and_leave_the_count_when_read_or_deleted()
    {
        var c = await fixture.NewChannelAsync();
        using (ClusterFixture.As(c.BobKey))
        {
            await c.Channel.PostAsync(new NewMessage("hey ann", Mentions: ["ann"]));
            var second = await c.Channel.PostAsync(new NewMessage("ann again", Mentions: ["ann", "ann", "bob"]));
            await c.Channel.PostAsync(new NewMessage("a reply for ann", Mentions: ["ann"], ReplyTo: second.Version));
            Assert.Equal(0, (await c.Channel.GetUnreadAsync()).Mentions);
            await c.Channel.DeleteAsync(second.Version);
        }

        using (ClusterFixture.As(c.OwnerKey))
        {
            await c.Channel.PostAsync(new NewMessage("everyone", MentionChannel: true));
            Assert.Equal(0, (await c.Channel.GetUnreadAsync()).Mentions);
        }

        var state = await UnreadAsync(c, c.AnnKey);
        Assert.Equal((3, 2), (state.Mentions, state.Unread));
        Assert.Equal(1, (await UnreadAsync(c, c.BobKey)).Mentions);

        using (ClusterFixture.As(c.AnnKey))
        {
            await c.Channel.MarkReadAsync(long.MaxValue);
            Assert.Equal(0, (await c.Channel.GetUnreadAsync()).Mentions);
        }
    }

    [Fact]
    public async Task Every_watcher_sees_every_post_once_and_in_the_same_order_under_concurrent_posters()
    {
        var c = await fixture.NewChannelAsync();
        long start;
        using (ClusterFixture.As(c.OwnerKey))
        {
            start = (await c.Channel.GetAsync()).Version;
        }

        const int PerPoster = 15;
        List<ChannelChange> first, second;
        using (ClusterFixture.As(c.AnnKey))
        {
            await using var a = c.Channel.WatchAsync(start).GetAsyncEnumerator();
            using (ClusterFixture.As(c.BobKey))
            {
                await using var b = c.Channel.WatchAsync(start).GetAsyncEnumerator();
                var posters = new[] { c.AnnKey, c.BobKey, c.OwnerKey }.Select(key => Task.Run(() => c.PostAsync(key, PerPoster, key[..6])));
                var readA = a.TakeAsync(3 * PerPoster);
                var readB = b.TakeAsync(3 * PerPoster);
                await Task.WhenAll(posters);
                (first, second) = (await readA, await readB);
            }
        }

        Assert.All(first, change => Assert.Equal(ChannelChangeKind.Posted, change.Kind));
        Assert.Equal(first.Select(x => x.Sequence), second.Select(x => x.Sequence));
        Assert.Equal(Enumerable.Range((int)start + 1, 3 * PerPoster).Select(i => (long)i), first.Select(x => x.Sequence));
        Assert.Equal(first.Select(x => x.Message!.Sequence), first.Select(x => x.Sequence));
        using (ClusterFixture.As(c.AnnKey))
        {
            Assert.Equal(first.Select(x => x.Message!.Text), (await c.Channel.AllMessagesAsync()).Select(m => m.Text));
        }
    }

    [Fact]
    public async Task A_watcher_that_reconnects_mid_burst_sees_no_gap_and_no_duplicate()
    {
        var c = await fixture.NewChannelAsync();
        using (ClusterFixture.As(c.AnnKey))
        {
            var start = (await c.Channel.GetAsync()).Version;
            var burst = Task.Run(() => c.PostAsync(c.BobKey, 30));
            var seen = new List<ChannelChange>();
            await using (var feed = c.Channel.WatchAsync(start).GetAsyncEnumerator())
            {
                seen.AddRange(await feed.TakeAsync(10));
            }

            await using (var feed = c.Channel.WatchAsync(seen[^1].Sequence).GetAsyncEnumerator())
            {
                seen.AddRange(await feed.TakeAsync(20));
            }

            await burst;
            Assert.Equal(Enumerable.Range((int)start + 1, 30).Select(i => (long)i), seen.Select(x => x.Sequence));
        }
    }

    [Fact]
    public async Task The_feed_carries_edits_deletes_reactions_pins_and_membership_but_not_read_markers()
    {
        var c = await fixture.NewChannelAsync();
        using (ClusterFixture.As(c.AnnKey))
        {
            var start = (await c.Channel.GetAsync()).Version;
            await using var feed = c.Channel.WatchAsync(start).GetAsyncEnumerator();
            var seq = (await c.Channel.PostAsync(new NewMessage("hello"))).Version;
            await c.Channel.MarkReadAsync(seq);
            await c.Channel.EditAsync(seq, "hello!");
            await c.Channel.ReactAsync(seq, "👋");
            await c.Channel.PinAsync(seq);
            await c.Channel.InviteAsync(["dan"]);
            await c.Channel.DeleteAsync(seq);
            var changes = await feed.TakeAsync(6);
            Assert.Equal(
                [ChannelChangeKind.Posted, ChannelChangeKind.Edited, ChannelChangeKind.ReactionAdded, ChannelChangeKind.Pinned, ChannelChangeKind.MembersAdded, ChannelChangeKind.Deleted],
                changes.Select(x => x.Kind));
            Assert.Equal(("hello!", "👋", seq, "dan"), (changes[1].Message!.Text, changes[2].Key, changes[3].Target!.Value, changes[4].Principals![0]));
            Assert.Equal(("", "ann"), (changes[5].Message!.Text, changes[5].Message!.Deleted!.By));
            Assert.Equal(start + 6, (await c.Channel.GetAsync()).Version);
        }
    }
}
