using Groundwork.Chat;
using Groundwork.Testing;
using Xunit;

namespace Groundwork.Grains.Tests.Chat;

// The shared cluster stores channels in pages of 4 messages, 3 pages to an index chunk (ClusterFixture.Settings), so
// a few dozen messages cross every page and index boundary.
[Collection(ClusterCollection.Name)]
public sealed class MessageTests(ClusterFixture fixture)
{
    [Fact]
    public async Task Creating_a_channel_makes_the_creator_its_owner_and_lists_it_in_the_directory()
    {
        var c = await fixture.NewChannelAsync();
        using (ClusterFixture.As(c.OwnerKey))
        {
            var info = await c.Channel.GetAsync();
            Assert.Equal(("general", "all things", false, false, ChannelRole.Owner, 3), (info.Name, info.Topic, info.Private, info.Direct, info.MyRole, info.Members));
            await Assert.ThrowsAsync<AlreadyExistsException>(() => c.Channel.CreateAsync(new NewChannel("again")));
        }

        var entries = await fixture.WaitForDirectoryAsync(c.Tenant.Id, c.OwnerKey, e => e.Any(x => x.Key == c.Key));
        Assert.Equal(("channel", "general"), entries.Single(e => e.Key == c.Key) is var entry ? (entry.Kind, entry.Title) : default);
    }

    [Fact]
    public async Task History_pages_in_order_across_pages_and_index_chunks_with_the_right_ends()
    {
        var c = await fixture.NewChannelAsync();
        var posted = await c.PostAsync(c.AnnKey, 40);
        using (ClusterFixture.As(c.BobKey))
        {
            Assert.Equal(posted, (await c.Channel.AllMessagesAsync()).Select(m => m.Sequence));

            var newest = await c.Channel.GetHistoryAsync(new HistoryQuery(Limit: 5));
            Assert.Equal(posted[^5..], newest.Messages.Select(m => m.Sequence));
            Assert.Equal((false, true), (newest.ReachedOldest, newest.ReachedNewest));
            Assert.Equal("message 39", newest.Messages[^1].Text);

            var oldest = await c.Channel.GetHistoryAsync(new HistoryQuery(HistoryAnchor.Oldest, Limit: 5));
            Assert.Equal(posted[..5], oldest.Messages.Select(m => m.Sequence));
            Assert.Equal((true, false), (oldest.ReachedOldest, oldest.ReachedNewest));

            var after = await c.Channel.GetHistoryAsync(new HistoryQuery(HistoryAnchor.After, posted[20], 4));
            Assert.Equal(posted[21..25], after.Messages.Select(m => m.Sequence));
            Assert.Equal((false, false), (after.ReachedOldest, after.ReachedNewest));

            var before = await c.Channel.GetHistoryAsync(new HistoryQuery(HistoryAnchor.Before, posted[3], 10));
            Assert.Equal(posted[..3], before.Messages.Select(m => m.Sequence));
            Assert.Equal((true, false), (before.ReachedOldest, before.ReachedNewest));

            var around = await c.Channel.GetHistoryAsync(new HistoryQuery(HistoryAnchor.Around, posted[30], 6));
            Assert.Equal(posted[27..33], around.Messages.Select(m => m.Sequence));

            var end = await c.Channel.GetHistoryAsync(new HistoryQuery(HistoryAnchor.After, posted[^1]));
            Assert.Empty(end.Messages);
            Assert.True(end.ReachedNewest);
        }
    }

    [Fact]
    public async Task History_survives_a_restart_and_posting_goes_on_after_it()
    {
        var c = await fixture.NewChannelAsync();
        var posted = await c.PostAsync(c.AnnKey, 17);
        await fixture.Cluster.DeactivateAsync(c.Channel);
        posted.AddRange(await c.PostAsync(c.BobKey, 20, "later"));
        await fixture.Cluster.DeactivateAsync(c.Channel);
        using (ClusterFixture.As(c.AnnKey))
        {
            var all = await c.Channel.AllMessagesAsync(pageSize: 5);
            Assert.Equal(posted, all.Select(m => m.Sequence));
            Assert.Equal(37, (await c.Channel.GetAsync()).Messages);
        }
    }

    [Fact]
    public async Task A_bad_history_query_is_refused_with_a_typed_error()
    {
        var c = await fixture.NewChannelAsync();
        using (ClusterFixture.As(c.AnnKey))
        {
            await Assert.ThrowsAsync<InvalidRequestException>(() => c.Channel.GetHistoryAsync(new HistoryQuery(HistoryAnchor.Before)));
            await Assert.ThrowsAsync<InvalidRequestException>(() => c.Channel.GetHistoryAsync(new HistoryQuery(Limit: 0)));
            var tooMany = await Assert.ThrowsAsync<LimitExceededException>(() => c.Channel.GetHistoryAsync(new HistoryQuery(Limit: 201)));
            Assert.Equal("Chat:MaxPageSize", tooMany.Limit);
        }
    }

    [Fact]
    public async Task A_reply_to_a_reply_joins_the_root_thread_which_pages_apart_from_the_channel()
    {
        var c = await fixture.NewChannelAsync();
        long root, first;
        var replies = new List<long>();
        using (ClusterFixture.As(c.AnnKey))
        {
            root = (await c.Channel.PostAsync(new NewMessage("question"))).Version;
            first = (await c.Channel.PostAsync(new NewMessage("answer", ReplyTo: root))).Version;
            replies.Add(first);
        }

        using (ClusterFixture.As(c.BobKey))
        {
            for (var i = 0; i < 9; i++)
            {
                replies.Add((await c.Channel.PostAsync(new NewMessage($"reply {i}", ReplyTo: i == 0 ? first : root))).Version);
            }

            var channelPage = await c.Channel.GetHistoryAsync();
            Assert.Equal([root], channelPage.Messages.Select(m => m.Sequence));
            var summary = channelPage.Messages[0].Thread!;
            Assert.Equal(10, summary.Replies);
            Assert.Equal(["ann", "bob"], summary.Participants);

            var thread = await c.Channel.GetThreadAsync(root, new HistoryQuery(Limit: 4));
            Assert.Equal(replies[^4..], thread.Messages.Select(m => m.Sequence));
            Assert.All(thread.Messages, m => Assert.Equal(root, m.Root));
            Assert.Equal((false, true), (thread.ReachedOldest, thread.ReachedNewest));

            var before = await c.Channel.GetThreadAsync(root, new HistoryQuery(HistoryAnchor.Before, replies[3], 10));
            Assert.Equal(replies[..3], before.Messages.Select(m => m.Sequence));
            Assert.True(before.ReachedOldest);
            var after = await c.Channel.GetThreadAsync(root, new HistoryQuery(HistoryAnchor.After, replies[3], 2));
            Assert.Equal(replies[4..6], after.Messages.Select(m => m.Sequence));

            await Assert.ThrowsAsync<NotFoundException>(() => c.Channel.PostAsync(new NewMessage("nowhere", ReplyTo: 9_999)));
            await Assert.ThrowsAsync<NotFoundException>(() => c.Channel.GetThreadAsync(first));
        }
    }

    [Fact]
    public async Task Editing_keeps_every_version_and_only_the_author_edits()
    {
        var c = await fixture.NewChannelAsync();
        using (ClusterFixture.As(c.AnnKey))
        {
            var seq = (await c.Channel.PostAsync(new NewMessage("frist"))).Version;
            await c.Channel.EditAsync(seq, "first");
            await c.Channel.EditAsync(seq, "first!");
            var message = await c.Channel.GetMessageAsync(seq);
            Assert.Equal(("first!", 2), (message.Text, message.Edits));
            Assert.NotNull(message.EditedAt);
            var versions = await c.Channel.GetVersionsAsync(seq);
            Assert.Equal(["frist", "first", "first!"], versions.Select(v => v.Text));
            Assert.Equal([0, 1, 2], versions.Select(v => v.Version));

            await c.Channel.EditAsync(seq, "third edit");
            var limit = await Assert.ThrowsAsync<LimitExceededException>(() => c.Channel.EditAsync(seq, "fourth edit"));
            Assert.Equal("Chat:MaxEdits", limit.Limit);

            using (ClusterFixture.As(c.OwnerKey))
            {
                await Assert.ThrowsAsync<AccessDeniedException>(() => c.Channel.EditAsync(seq, "not mine"));
            }
        }
    }

    [Fact]
    public async Task Deleting_leaves_a_tombstone_in_place_and_clears_text_versions_and_reactions()
    {
        var c = await fixture.NewChannelAsync();
        var posted = await c.PostAsync(c.AnnKey, 9);
        var target = posted[4];
        using (ClusterFixture.As(c.AnnKey))
        {
            await c.Channel.EditAsync(target, "edited");
            await c.Channel.ReactAsync(target, "👍");
            await c.Channel.PinAsync(target);
        }

        using (ClusterFixture.As(c.BobKey))
        {
            await Assert.ThrowsAsync<AccessDeniedException>(() => c.Channel.DeleteAsync(target));
        }

        using (ClusterFixture.As(c.AnnKey))
        {
            var deleted = await c.Channel.DeleteAsync(target);
            var again = await c.Channel.DeleteAsync(target);
            Assert.Equal(deleted.Version, again.Version);

            var all = await c.Channel.AllMessagesAsync();
            Assert.Equal(posted, all.Select(m => m.Sequence));
            var tombstone = all.Single(m => m.Sequence == target);
            Assert.Equal(("", "ann", "ann", 0, false), (tombstone.Text, tombstone.Author, tombstone.Deleted!.By, tombstone.Reactions.Count, tombstone.Pinned));
            Assert.Empty(await c.Channel.GetVersionsAsync(target));
            Assert.Empty(await c.Channel.GetPinnedAsync());
            await Assert.ThrowsAsync<InvalidRequestException>(() => c.Channel.EditAsync(target, "back"));
            await Assert.ThrowsAsync<InvalidRequestException>(() => c.Channel.ReactAsync(target, "👍"));
        }

        // A moderator deletes anyone's message.
        using (ClusterFixture.As(c.OwnerKey))
        {
            await c.Channel.DeleteAsync(posted[0]);
            Assert.Equal("owner", (await c.Channel.GetMessageAsync(posted[0])).Deleted!.By);
        }
    }

    [Fact]
    public async Task A_reaction_is_one_per_member_and_key_and_comes_back_as_counts_with_mine()
    {
        var c = await fixture.NewChannelAsync();
        var seq = (await c.PostAsync(c.AnnKey, 1))[0];
        using (ClusterFixture.As(c.AnnKey))
        {
            var first = await c.Channel.ReactAsync(seq, "👍");
            var repeat = await c.Channel.ReactAsync(seq, "👍");
            Assert.Equal(first.Version, repeat.Version);
            await c.Channel.ReactAsync(seq, "🎉");
        }

        using (ClusterFixture.As(c.BobKey))
        {
            await c.Channel.ReactAsync(seq, "👍");
            var seen = await c.Channel.GetMessageAsync(seq);
            Assert.Equal([("👍", 2, true), ("🎉", 1, false)], seen.Reactions.Select(r => (r.Key, r.Count, r.Mine)));
            await c.Channel.ReactAsync(seq, "👍", on: false);
            var removedTwice = await c.Channel.ReactAsync(seq, "👍", on: false);
            Assert.Equal(0, removedTwice.Count);
            Assert.Equal([("👍", 1, false), ("🎉", 1, false)], (await c.Channel.GetMessageAsync(seq)).Reactions.Select(r => (r.Key, r.Count, r.Mine)));

            for (var i = 0; i < 18; i++)
            {
                await c.Channel.ReactAsync(seq, $"k{i}");
            }

            var tooMany = await Assert.ThrowsAsync<LimitExceededException>(() => c.Channel.ReactAsync(seq, "one-more"));
            Assert.Equal("Chat:MaxReactionKeys", tooMany.Limit);
            var tooLong = await Assert.ThrowsAsync<LimitExceededException>(() => c.Channel.ReactAsync(seq, new string('x', 65)));
            Assert.Equal("Chat:MaxReactionKeyBytes", tooLong.Limit);
            await Assert.ThrowsAsync<InvalidRequestException>(() => c.Channel.ReactAsync(seq, "two words"));
        }
    }

    [Fact]
    public async Task Pins_are_listed_oldest_first_up_to_the_limit()
    {
        var c = await fixture.NewChannelAsync();
        var posted = await c.PostAsync(c.AnnKey, 5);
        using (ClusterFixture.As(c.BobKey))
        {
            foreach (var seq in posted[..3])
            {
                await c.Channel.PinAsync(seq);
            }

            var full = await Assert.ThrowsAsync<LimitExceededException>(() => c.Channel.PinAsync(posted[3]));
            Assert.Equal("Chat:MaxPins", full.Limit);
            await c.Channel.PinAsync(posted[1], pinned: false);
            await c.Channel.PinAsync(posted[4]);
            Assert.Equal([posted[0], posted[2], posted[4]], (await c.Channel.GetPinnedAsync()).Select(m => m.Sequence));
            Assert.True((await c.Channel.GetMessageAsync(posted[4])).Pinned);
        }
    }

    [Fact]
    public async Task Message_limits_are_refused_with_their_names_and_change_nothing()
    {
        var c = await fixture.NewChannelAsync();
        using (ClusterFixture.As(c.AnnKey))
        {
            var version = (await c.Channel.GetAsync()).Version;
            async Task<string> Refused(NewMessage message) => (await Assert.ThrowsAsync<LimitExceededException>(() => c.Channel.PostAsync(message))).Limit;
            Assert.Equal("Chat:MaxTextLength", await Refused(new NewMessage(new string('a', 4_001))));
            Assert.Equal("Chat:MaxPayloadBytes", await Refused(new NewMessage("", Payload: new string('é', 32_769))));
            Assert.Equal("Chat:MaxMentions", await Refused(new NewMessage("hi", Mentions: [.. Enumerable.Range(0, 51).Select(i => $"p{i}")])));
            Assert.Equal("Chat:MaxAttachments", await Refused(new NewMessage("", Attachments: [.. Enumerable.Range(0, 11).Select(i => new Attachment($"f{i}", $"blob/{i}"))])));
            await Assert.ThrowsAsync<InvalidRequestException>(() => c.Channel.PostAsync(new NewMessage("")));
            await Assert.ThrowsAsync<InvalidRequestException>(() => c.Channel.PostAsync(new NewMessage("x", Attachments: [new Attachment("", "ref")])));
            await Assert.ThrowsAsync<InvalidRequestException>(() => c.Channel.PostAsync(new NewMessage("x", Mentions: ["not valid!"])));
            Assert.Equal(version, (await c.Channel.GetAsync()).Version);

            var exact = await c.Channel.PostAsync(new NewMessage(new string('a', 4_000), Payload: new string('b', 65_536),
                Attachments: [.. Enumerable.Range(0, 10).Select(i => new Attachment($"f{i}", $"blob/{i}", "image/png", 10))]));
            var stored = await c.Channel.GetMessageAsync(exact.Version);
            Assert.Equal((4_000, 65_536, 10), (stored.Text.Length, stored.Payload!.Length, stored.Attachments.Count));
        }
    }
}
