using Groundwork.Access;
using Groundwork.Chat;
using Groundwork.Tenants;
using Groundwork.Testing;
using Xunit;

namespace Groundwork.Grains.Tests.Chat;

[Collection(ClusterCollection.Name)]
public sealed class MembershipTests(ClusterFixture fixture)
{
    [Fact]
    public async Task A_private_channel_is_read_only_by_its_members_and_joined_only_by_invitation()
    {
        var c = await fixture.NewChannelAsync(isPrivate: true);
        var carol = await c.Tenant.MemberKeyAsync("carol", TenantRole.Member);
        await c.PostAsync(c.AnnKey, 1);
        using (ClusterFixture.As(carol))
        {
            await Assert.ThrowsAsync<AccessDeniedException>(() => c.Channel.GetHistoryAsync());
            await Assert.ThrowsAsync<AccessDeniedException>(() => c.Channel.GetAsync());
            await Assert.ThrowsAsync<AccessDeniedException>(() => c.Channel.JoinAsync());
            await Assert.ThrowsAsync<AccessDeniedException>(() => c.Channel.PostAsync(new NewMessage("let me in")));
        }

        using (ClusterFixture.As(c.AnnKey))
        {
            await c.Channel.InviteAsync(["carol"]);
        }

        using (ClusterFixture.As(carol))
        {
            Assert.Single((await c.Channel.GetHistoryAsync()).Messages);
            await c.Channel.PostAsync(new NewMessage("thanks"));
            await c.Channel.LeaveAsync();
            await Assert.ThrowsAsync<AccessDeniedException>(() => c.Channel.GetHistoryAsync());
        }
    }

    [Fact]
    public async Task A_tenant_viewer_reads_and_joins_a_public_channel_but_cannot_post()
    {
        var c = await fixture.NewChannelAsync();
        var viewer = await c.Tenant.MemberKeyAsync("vera", TenantRole.Viewer);
        await c.PostAsync(c.AnnKey, 2);
        using (ClusterFixture.As(viewer))
        {
            Assert.Equal(2, (await c.Channel.GetHistoryAsync()).Messages.Count);
            await Assert.ThrowsAsync<AccessDeniedException>(() => c.Channel.GetUnreadAsync());
            await c.Channel.JoinAsync();
            var refused = await Assert.ThrowsAsync<AccessDeniedException>(() => c.Channel.PostAsync(new NewMessage("hello")));
            Assert.Contains("Member", refused.Message, StringComparison.Ordinal);
            await Assert.ThrowsAsync<AccessDeniedException>(() => c.Channel.ReactAsync(1, "👍"));
            Assert.Equal(0, (await c.Channel.GetUnreadAsync()).Unread);
        }
    }

    [Fact]
    public async Task Another_tenant_cannot_read_the_channel_or_see_it_in_its_directory()
    {
        var c = await fixture.NewChannelAsync();
        var other = await fixture.NewTenantAsync();
        using (ClusterFixture.As(other.OwnerKey))
        {
            var refused = await Assert.ThrowsAsync<AccessDeniedException>(() => c.Channel.GetHistoryAsync());
            Assert.Equal(AccessDenialReason.WrongTenant, refused.Reason);
            await Assert.ThrowsAsync<AccessDeniedException>(() => c.Channel.JoinAsync());
            Assert.Empty(await fixture.Client.GetTenantDirectory(other.Id).ListAsync("channel"));
        }
    }

    [Fact]
    public async Task Roles_moderators_remove_members_and_only_owners_change_roles()
    {
        var c = await fixture.NewChannelAsync();
        using (ClusterFixture.As(c.AnnKey))
        {
            await Assert.ThrowsAsync<AccessDeniedException>(() => c.Channel.RenameAsync("mine"));
            await Assert.ThrowsAsync<AccessDeniedException>(() => c.Channel.RemoveMemberAsync("bob"));
            await Assert.ThrowsAsync<AccessDeniedException>(() => c.Channel.PostAsync(new NewMessage("all of you", MentionChannel: true)));
        }

        using (ClusterFixture.As(c.OwnerKey))
        {
            await c.Channel.SetRoleAsync("ann", ChannelRole.Moderator);
        }

        using (ClusterFixture.As(c.AnnKey))
        {
            await c.Channel.RenameAsync("renamed");
            await c.Channel.SetTopicAsync("new topic");
            await Assert.ThrowsAsync<AccessDeniedException>(() => c.Channel.SetRoleAsync("bob", ChannelRole.Moderator));
            await c.Channel.RemoveMemberAsync("bob");
            var info = await c.Channel.GetAsync();
            Assert.Equal(("renamed", "new topic", 2, ChannelRole.Moderator), (info.Name, info.Topic, info.Members, info.MyRole));
        }

        using (ClusterFixture.As(c.BobKey))
        {
            await Assert.ThrowsAsync<AccessDeniedException>(() => c.Channel.PostAsync(new NewMessage("still here?")));
        }

        using (ClusterFixture.As(c.OwnerKey))
        {
            // The owner is the only one: it cannot step down before naming another.
            await Assert.ThrowsAsync<InvalidRequestException>(() => c.Channel.SetRoleAsync("owner", ChannelRole.Member));
            await c.Channel.SetRoleAsync("ann", ChannelRole.Owner);
            await c.Channel.SetRoleAsync("owner", ChannelRole.Member);
            var members = await c.Channel.GetMembersAsync();
            Assert.Equal([("ann", ChannelRole.Owner), ("owner", ChannelRole.Member)], members.Members.Select(m => (m.Principal, m.Role)));
            Assert.Null(members.Next);
        }
    }

    [Fact]
    public async Task Slow_mode_holds_members_to_one_post_per_interval_and_spares_moderators()
    {
        var c = await fixture.NewChannelAsync();
        using (ClusterFixture.As(c.AnnKey))
        {
            await Assert.ThrowsAsync<AccessDeniedException>(() => c.Channel.SetSlowModeAsync(TimeSpan.FromMinutes(1)));
            await c.Channel.PostAsync(new NewMessage("before"));
        }

        using (ClusterFixture.As(c.OwnerKey))
        {
            var tooSlow = await Assert.ThrowsAsync<LimitExceededException>(() => c.Channel.SetSlowModeAsync(TimeSpan.FromHours(7)));
            Assert.Equal("Chat:MaxSlowMode", tooSlow.Limit);
            await Assert.ThrowsAsync<InvalidRequestException>(() => c.Channel.SetSlowModeAsync(TimeSpan.FromSeconds(-1)));
            await c.Channel.SetSlowModeAsync(TimeSpan.FromHours(1));
            Assert.Equal(TimeSpan.FromHours(1), (await c.Channel.GetAsync()).SlowMode);
        }

        using (ClusterFixture.As(c.AnnKey))
        {
            var refused = await Assert.ThrowsAsync<RateLimitedException>(() => c.Channel.PostAsync(new NewMessage("too soon")));
            Assert.Equal("Chat:SlowMode", refused.Limit);
            Assert.InRange(refused.RetryAfter, TimeSpan.FromMinutes(59), TimeSpan.FromHours(1));
        }

        using (ClusterFixture.As(c.BobKey))
        {
            await c.Channel.PostAsync(new NewMessage("first since"));
            await Assert.ThrowsAsync<RateLimitedException>(() => c.Channel.PostAsync(new NewMessage("second")));
        }

        using (ClusterFixture.As(c.OwnerKey))
        {
            await c.Channel.PostAsync(new NewMessage("moderators are exempt"));
            await c.Channel.PostAsync(new NewMessage("still exempt"));
            await c.Channel.SetSlowModeAsync(TimeSpan.Zero);
        }

        using (ClusterFixture.As(c.AnnKey))
        {
            await c.Channel.PostAsync(new NewMessage("off again"));
        }
    }

    [Fact]
    public async Task Members_and_invitations_are_limited()
    {
        var c = await fixture.NewChannelAsync();
        using (ClusterFixture.As(c.AnnKey))
        {
            // The test cluster allows 8 members; 3 are in.
            var full = await Assert.ThrowsAsync<LimitExceededException>(() => c.Channel.InviteAsync(["p1", "p2", "p3", "p4", "p5", "p6"]));
            Assert.Equal("Chat:MaxMembers", full.Limit);
            var invited = await c.Channel.InviteAsync(["p1", "p2", "p1", "ann"]);
            Assert.Equal(2, invited.Count);
            await Assert.ThrowsAsync<InvalidRequestException>(() => c.Channel.InviteAsync(["bad id!"]));
            Assert.Equal(5, (await c.Channel.GetAsync()).Members);
            var page = await c.Channel.GetMembersAsync(limit: 2);
            Assert.Equal(["ann", "bob"], page.Members.Select(m => m.Principal));
            Assert.Equal(["owner", "p1"], (await c.Channel.GetMembersAsync(page.Next, 2)).Members.Select(m => m.Principal));
        }
    }

    [Fact]
    public async Task A_direct_conversation_is_found_again_by_its_members_and_closed_to_others()
    {
        var tenant = await fixture.NewTenantAsync();
        var ann = await tenant.MemberKeyAsync("ann", TenantRole.Member);
        var bob = await tenant.MemberKeyAsync("bob", TenantRole.Member);
        var carol = await tenant.MemberKeyAsync("carol", TenantRole.Member);
        var key = ChannelKeys.Direct(tenant.Id, ["bob", "ann"]);
        Assert.Equal(key, ChannelKeys.Direct(tenant.Id, ["ann", "bob", "ann"]));
        Assert.StartsWith("dm-", key.Name, StringComparison.Ordinal);

        using (ClusterFixture.As(ann))
        {
            var dm = fixture.Client.GetDirectChannel(tenant.Id, ["ann", "bob"]);
            await dm.OpenDirectAsync(["bob"]);
            await dm.PostAsync(new NewMessage("hi bob"));
            var info = await dm.GetAsync();
            Assert.Equal((true, true, 2), (info.Direct, info.Private, info.Members));
            await Assert.ThrowsAsync<InvalidRequestException>(() => dm.InviteAsync(["carol"]));
        }

        using (ClusterFixture.As(bob))
        {
            var dm = fixture.Client.GetChannel(key);
            var before = (await dm.GetAsync()).Version;
            var opened = await dm.OpenDirectAsync(["ann"]);
            Assert.Equal(before, opened.Version);
            Assert.Equal("hi bob", (await dm.GetHistoryAsync()).Messages.Single().Text);
        }

        using (ClusterFixture.As(carol))
        {
            await Assert.ThrowsAsync<AccessDeniedException>(() => fixture.Client.GetChannel(key).GetHistoryAsync());
            await Assert.ThrowsAsync<AccessDeniedException>(() => fixture.Client.GetChannel(key).OpenDirectAsync(["ann", "bob"]));
            // A conversation's key is its members': another key for them is refused, and so is "dm-" for a channel.
            var wrong = fixture.Client.GetChannel($"{tenant.Id}/channel/dm-0123456789abcdef0123456789abcdef");
            await Assert.ThrowsAsync<InvalidRequestException>(() => wrong.OpenDirectAsync(["ann"]));
            await Assert.ThrowsAsync<InvalidRequestException>(() => wrong.CreateAsync(new NewChannel("sneaky")));
        }
    }

    [Fact]
    public async Task A_retried_operation_id_posts_once_and_the_same_id_with_other_arguments_is_a_conflict()
    {
        var c = await fixture.NewChannelAsync();
        using (ClusterFixture.As(c.AnnKey))
        {
            var options = new MutationOptions(OperationId: "send-1");
            var first = await c.Channel.PostAsync(new NewMessage("once", Mentions: ["bob"]), options);
            var retry = await c.Channel.PostAsync(new NewMessage("once", Mentions: ["bob"]), options);
            Assert.Equal((first.Version, true), (retry.Version, retry.Replayed));
            Assert.Single((await c.Channel.GetHistoryAsync()).Messages);

            var other = await Assert.ThrowsAsync<OperationConflictException>(() => c.Channel.PostAsync(new NewMessage("twice"), options));
            Assert.Equal("send-1", other.OperationId);
            await Assert.ThrowsAsync<OperationConflictException>(() => c.Channel.ReactAsync(first.Version, "👍", options: options));
            Assert.Single((await c.Channel.GetHistoryAsync()).Messages);
        }

        using (ClusterFixture.As(c.BobKey))
        {
            await Assert.ThrowsAsync<OperationConflictException>(() => c.Channel.PostAsync(new NewMessage("once", Mentions: ["bob"]), new MutationOptions(OperationId: "send-1")));
        }
    }
}
