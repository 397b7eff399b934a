using Groundwork.ChatProduct;
using Groundwork.Testing;
using Xunit;

namespace Groundwork.Grains.Tests.Chat;

/// <summary>The terminal chat's command layer, against the shared cluster (the screen itself is tested under tmux).</summary>
[Collection(ClusterCollection.Name)]
public sealed class ChatProductTests(ClusterFixture fixture)
{
    [Theory]
    [InlineData("hello there", "post", 0, "hello there")]
    [InlineData("  spaced  ", "post", 0, "spaced")]
    [InlineData("/reply 12 sure thing", "reply", 12, "sure thing")]
    [InlineData("/edit 3 fixed typo", "edit", 3, "fixed typo")]
    [InlineData("/delete 3", "delete", 3, "")]
    [InlineData("/react 3 +1", "react", 3, "+1")]
    [InlineData("/unreact 3 +1", "unreact", 3, "+1")]
    [InlineData("/QUIT", "quit", 0, "")]
    [InlineData("/reply x text", "help", 0, null)]
    [InlineData("/dance 3", "help", 0, null)]
    public void Lines_parse_into_commands(string line, string verb, long target, string? text)
    {
        var command = ChatSession.Parse(line);
        Assert.Equal((verb, target), (command.Verb, command.Target));
        if (text is not null)
        {
            Assert.Equal(text, command.Text);
        }
    }

    [Fact]
    public async Task Commands_act_on_the_channel_and_the_feed_keeps_the_screen_state_in_step()
    {
        var c = await fixture.NewChannelAsync();
        var name = c.Key.Split('/')[2];
        using (ClusterFixture.As(c.AnnKey))
        {
            var session = new ChatSession(fixture.Client, c.Tenant.Id, "ann", name);
            await session.OpenAsync();
            var start = (await c.Channel.GetAsync()).Version;
            Assert.True(await session.ExecuteAsync(ChatSession.Parse("first")));
            var first = start + 1;
            await session.ExecuteAsync(ChatSession.Parse($"/react {first} +1"));
            await session.ExecuteAsync(ChatSession.Parse($"/edit {first} first!"));
            await session.ExecuteAsync(ChatSession.Parse($"/reply {first} a reply"));
            await session.ExecuteAsync(ChatSession.Parse($"/edit 9999 nothing"));
            Assert.Contains("message", session.Notice, StringComparison.Ordinal);
            Assert.False(await session.ExecuteAsync(ChatSession.Parse("/quit")));

            await using var feed = c.Channel.WatchAsync(start).GetAsyncEnumerator();
            foreach (var change in await feed.TakeAsync(4))
            {
                session.Apply(change);
            }

            var shown = session.Messages[first];
            Assert.Equal(("first!", 1, true, 1), (shown.Text, shown.Reactions.Single().Count, shown.Reactions.Single().Mine, shown.Thread!.Replies));
            Assert.Equal(first, session.Messages[first + 3].Root);

            using (ClusterFixture.As(c.BobKey))
            {
                await c.Channel.ReactAsync(first, "+1");
            }

            await session.ExecuteAsync(ChatSession.Parse($"/delete {first + 3}"));

            foreach (var change in await feed.TakeAsync(2))
            {
                session.Apply(change);
            }

            Assert.Equal((2, true), (session.Messages[first].Reactions.Single().Count, session.Messages[first].Reactions.Single().Mine));
            Assert.NotNull(session.Messages[first + 3].Deleted);
        }
    }
}
