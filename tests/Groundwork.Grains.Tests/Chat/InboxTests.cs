using Groundwork.Access;
using Groundwork.Chat;
using Groundwork.Testing;
using Xunit;

namespace Groundwork.Grains.Tests.Chat;

[Collection(ClusterCollection.Name)]
public sealed class InboxTests(ClusterFixture fixture)
{
    /// <summary>Reads the inbox until <paramref name="condition"/> holds: channels record joins just after their commit.</summary>
    private static async Task<InboxPage> WaitForInboxAsync(IInboxGrain inbox, string key, Func<InboxPage, bool> condition)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using (ClusterFixture.As(key))
        {
            while (true)
            {
                var page = await inbox.ListAsync();
                if (condition(page))
                {
                    return page;
                }

                await Task.Delay(20, deadline.Token);
            }
        }
    }

    [Fact]
    public async Task The_inbox_orders_a_members_channels_by_last_message_with_their_counts_and_a_preview()
    {
        var general = await fixture.NewChannelAsync();
        var tenant = general.Tenant;
        var random = fixture.Client.GetChannel($"{tenant.Id}/channel/random");
        using (ClusterFixture.As(general.BobKey))
        {
            await random.CreateAsync(new NewChannel("random", Private: true));
            await random.InviteAsync(["ann"]);
        }

        var dm = fixture.Client.GetDirectChannel(tenant.Id, ["ann", "bob"]);
        using (ClusterFixture.As(general.BobKey))
        {
            await general.Channel.PostAsync(new NewMessage("oldest"));
            await random.PostAsync(new NewMessage("middle", Mentions: ["ann"]));
            await dm.OpenDirectAsync(["ann"]);
            await dm.PostAsync(new NewMessage(new string('n', 150)));
        }

        var inbox = fixture.Client.GetInbox(tenant.Id, "ann");
        var page = await WaitForInboxAsync(inbox, general.AnnKey, p => p.Total == 3);
        Assert.Equal([dm.GetPrimaryKeyString(), random.GetPrimaryKeyString(), general.Key], page.Entries.Select(e => e.Channel));
        Assert.Equal([(1, 0), (1, 1), (1, 0)], page.Entries.Select(e => (e.Unread, e.Mentions)));
        Assert.Equal((true, 100, "bob"), (page.Entries[0].Direct, page.Entries[0].Preview!.Length, page.Entries[0].LastAuthor));
        Assert.Equal(("random", "middle"), (page.Entries[1].Name, page.Entries[1].Preview));

        // Reactions and edits do not move a channel; a new message does.
        using (ClusterFixture.As(general.BobKey))
        {
            var oldest = (await general.Channel.GetHistoryAsync()).Messages[0].Sequence;
            await general.Channel.ReactAsync(oldest, "👍");
            await general.Channel.EditAsync(oldest, "oldest, edited");
        }

        using (ClusterFixture.As(general.AnnKey))
        {
            Assert.Equal(general.Key, (await inbox.ListAsync()).Entries[^1].Channel);
            await random.PostAsync(new NewMessage("back on top"));
            var now = await inbox.ListAsync(limit: 1);
            Assert.Equal((random.GetPrimaryKeyString(), 0, 3), (now.Entries.Single().Channel, now.Entries[0].Unread, now.Total));
            Assert.Equal([general.Key], (await inbox.ListAsync(offset: 2)).Entries.Select(e => e.Channel));
            await general.Channel.LeaveAsync();
        }

        page = await WaitForInboxAsync(inbox, general.AnnKey, p => p.Total == 2);
        Assert.DoesNotContain(page.Entries, e => e.Channel == general.Key);
    }

    [Fact]
    public async Task An_inbox_is_read_only_by_its_member_and_written_only_by_channels()
    {
        var c = await fixture.NewChannelAsync();
        var viewer = await c.Tenant.MemberKeyAsync("vic", TenantRole.Viewer);
        var annInbox = fixture.Client.GetInbox(c.Tenant.Id, "ann");
        await WaitForInboxAsync(annInbox, c.AnnKey, p => p.Total == 1);
        using (ClusterFixture.As(c.BobKey))
        {
            await Assert.ThrowsAsync<AccessDeniedException>(() => annInbox.ListAsync());
        }

        using (ClusterFixture.As(viewer))
        {
            await Assert.ThrowsAsync<AccessDeniedException>(() => annInbox.ListAsync());
            Assert.Equal(0, (await fixture.Client.GetInbox(c.Tenant.Id, "vic").ListAsync()).Total);
        }

        using (ClusterFixture.As(c.AnnKey))
        {
            // Not even its member writes it: only channels do, for the members they have.
            await Assert.ThrowsAsync<AccessDeniedException>(() => annInbox.TrackAsync($"{c.Tenant.Id}/channel/fake", true));
            await Assert.ThrowsAsync<InvalidRequestException>(() => annInbox.ListAsync(limit: 201));
        }

        using (ClusterFixture.As(c.OwnerKey))
        {
            // Not even a tenant admin: the channels would answer with the admin's own counts.
            await Assert.ThrowsAsync<AccessDeniedException>(() => annInbox.ListAsync());
        }

        Assert.Equal(1, (await WaitForInboxAsync(annInbox, c.AnnKey, _ => true)).Total);

        var other = await fixture.NewTenantAsync();
        using (ClusterFixture.As(other.OwnerKey))
        {
            Assert.Equal(AccessDenialReason.WrongTenant, (await Assert.ThrowsAsync<AccessDeniedException>(() => annInbox.ListAsync())).Reason);
        }
    }
}
