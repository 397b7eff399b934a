using Groundwork.Access;
using Groundwork.Chat;
using Groundwork.Testing;

namespace Groundwork.Grains.Tests.Chat;

/// <summary>A channel made for one test in a fresh tenant, with keys for its owner and two tenant members.</summary>
internal sealed record TestChannel(TestTenant Tenant, string Key, IChannelGrain Channel, string AnnKey, string BobKey)
{
    public string OwnerKey => Tenant.OwnerKey;

    /// <summary>Posts <paramref name="count"/> messages as the holder of <paramref name="key"/>; returns their sequences.</summary>
    public async Task<List<long>> PostAsync(string key, int count, string prefix = "message")
    {
        var sequences = new List<long>(count);
        using (ClusterFixture.As(key))
        {
            for (var i = 0; i < count; i++)
            {
                sequences.Add((await Channel.PostAsync(new NewMessage($"{prefix} {i}"))).Version);
            }
        }

        return sequences;
    }
}

internal static class ChatTestKit
{
    /// <summary>
    /// A channel created by the tenant's owner, with "ann" and "bob" (tenant role Member) joined when it is public and
    /// invited when it is private.
    /// </summary>
    public static async Task<TestChannel> NewChannelAsync(this ClusterFixture fixture, bool isPrivate = false)
    {
        var tenant = await fixture.NewTenantAsync();
        var key = $"{tenant.Id}/channel/c{Guid.NewGuid():n}";
        var channel = fixture.Client.GetChannel(key);
        var ann = await tenant.MemberKeyAsync("ann", TenantRole.Member);
        var bob = await tenant.MemberKeyAsync("bob", TenantRole.Member);
        using (ClusterFixture.As(tenant.OwnerKey))
        {
            await channel.CreateAsync(new NewChannel("general", "all things", isPrivate));
            if (isPrivate)
            {
                await channel.InviteAsync(["ann", "bob"]);
            }
        }

        if (!isPrivate)
        {
            foreach (var member in new[] { ann, bob })
            {
                using (ClusterFixture.As(member))
                {
                    await channel.JoinAsync();
                }
            }
        }

        return new TestChannel(tenant, key, channel, ann, bob);
    }

    /// <summary>Every message in the channel, paging back from the newest.</summary>
    public static async Task<List<ChatMessage>> AllMessagesAsync(this IChannelGrain channel, int pageSize = 7)
    {
        var all = new List<ChatMessage>();
        var page = await channel.GetHistoryAsync(new HistoryQuery(Limit: pageSize));
        all.InsertRange(0, page.Messages);
        while (!page.ReachedOldest)
        {
            page = await channel.GetHistoryAsync(new HistoryQuery(HistoryAnchor.Before, page.Messages[0].Sequence, pageSize));
            all.InsertRange(0, page.Messages);
        }

        return all;
    }
}
