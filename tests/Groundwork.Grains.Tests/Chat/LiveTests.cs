using Groundwork.Access;
using Groundwork.Chat;
using Groundwork.Testing;
using Xunit;

namespace Groundwork.Grains.Tests.Chat;

// The shared cluster shows typing for 0.5 s, counts a member away after 0.6 s idle and drops a connection silent for
// 1.5 s (ClusterFixture.Settings), so expiry is seen quickly.
[Collection(ClusterCollection.Name)]
public sealed class LiveTests(ClusterFixture fixture)
{
    [Fact]
    public async Task Typing_reaches_live_watchers_ends_with_a_post_and_expires_by_itself()
    {
        var c = await fixture.NewChannelAsync();
        using (ClusterFixture.As(c.AnnKey))
        {
            await using var live = c.Channel.WatchLiveAsync().GetAsyncEnumerator();
            Assert.Empty((await live.TakeAsync(1))[0].Typing);

            using (ClusterFixture.As(c.BobKey))
            {
                Assert.True(await c.Channel.TypingAsync());
                Assert.Equal([new Typist("bob", null)], (await live.TakeAsync(1))[0].Typing);
                await c.Channel.PostAsync(new NewMessage("done typing"));
                Assert.Empty((await live.TakeAsync(1))[0].Typing);

                await c.Channel.TypingAsync(thread: 7);
                Assert.Equal([new Typist("bob", 7)], (await live.TakeAsync(1))[0].Typing);
            }

            // No more signals: it expires after the timeout, with no call to say so.
            var started = DateTime.UtcNow;
            Assert.Empty((await live.TakeAsync(1))[0].Typing);
            Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5));

            using (ClusterFixture.As(c.BobKey))
            {
                await c.Channel.TypingAsync();
                Assert.Single((await live.TakeAsync(1))[0].Typing);
                await c.Channel.TypingAsync(typing: false);
                Assert.Empty((await live.TakeAsync(1))[0].Typing);
            }
        }
    }

    [Fact]
    public async Task Typing_is_for_members_and_off_in_large_channels()
    {
        var c = await fixture.NewChannelAsync();
        var outsider = await c.Tenant.MemberKeyAsync("olga", TenantRole.Member);
        using (ClusterFixture.As(outsider))
        {
            await Assert.ThrowsAsync<AccessDeniedException>(() => c.Channel.TypingAsync());
        }

        using (ClusterFixture.As(c.AnnKey))
        {
            // The test cluster turns typing off past 5 members.
            await c.Channel.InviteAsync(["p1", "p2", "p3"]);
            Assert.False(await c.Channel.TypingAsync());
        }
    }

    [Fact]
    public async Task Presence_goes_online_away_and_offline_and_a_silent_connection_times_out()
    {
        var c = await fixture.NewChannelAsync();
        var presence = fixture.Client.GetPresence(c.Tenant.Id);
        using (ClusterFixture.As(c.BobKey))
        {
            await using var watch = presence.WatchAsync(["ann", "bob"]).GetAsyncEnumerator();
            Assert.Equal([("ann", PresenceStatus.Offline), ("bob", PresenceStatus.Offline)], (await watch.TakeAsync(1))[0].Select(p => (p.Principal, p.Status)));

            using (ClusterFixture.As(c.AnnKey))
            {
                var next = await presence.HeartbeatAsync("laptop");
                Assert.Equal(TimeSpan.FromSeconds(30), next);
            }

            Assert.Equal([("ann", PresenceStatus.Online)], (await watch.TakeAsync(1))[0].Select(p => (p.Principal, p.Status)));
            // Idle past AwayAfter, with no call: away.
            Assert.Equal([("ann", PresenceStatus.Away)], (await watch.TakeAsync(1))[0].Select(p => (p.Principal, p.Status)));
            // Silent past PresenceTimeout: offline, as when a process dies.
            Assert.Equal([("ann", PresenceStatus.Offline)], (await watch.TakeAsync(1))[0].Select(p => (p.Principal, p.Status)));

            using (ClusterFixture.As(c.AnnKey))
            {
                await presence.HeartbeatAsync("phone");
                Assert.Equal(PresenceStatus.Online, (await presence.GetAsync(["ann"]))[0].Status);
                // Watchers get statuses, not every beat: a status that comes and goes between two looks may be missed.
                Assert.Equal(PresenceStatus.Online, (await watch.TakeAsync(1))[0].Single().Status);
                await presence.DisconnectAsync("phone");
            }

            Assert.Equal(PresenceStatus.Offline, (await watch.TakeAsync(1))[0].Single().Status);
        }

        var other = await fixture.NewTenantAsync();
        using (ClusterFixture.As(other.OwnerKey))
        {
            await Assert.ThrowsAsync<AccessDeniedException>(() => presence.GetAsync(["ann"]));
            await Assert.ThrowsAsync<AccessDeniedException>(() => presence.HeartbeatAsync("intruder"));
        }
    }
}
