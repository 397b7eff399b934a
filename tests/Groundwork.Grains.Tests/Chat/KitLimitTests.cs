using Groundwork.Access;
using Groundwork.Chat;
using Groundwork.Grains.Tests.Kit;
using Groundwork.Testing;
using Xunit;

namespace Groundwork.Grains.Tests.Chat;

/// <summary>Chat's kit limits, on the kit cluster: 5 channels per tenant, and a feed served for 2 seconds.</summary>
[Collection(KitCollection.Name)]
public sealed class KitLimitTests(KitFixture kit)
{
    [Fact]
    public async Task A_tenant_holds_at_most_its_channels_even_created_at_once_and_direct_conversations_are_not_counted()
    {
        var fixture = kit.Cluster;
        var tenant = await fixture.NewTenantAsync();
        await tenant.MemberKeyAsync("bob", TenantRole.Member);
        using (ClusterFixture.As(tenant.OwnerKey))
        {
            var attempts = await Task.WhenAll(Enumerable.Range(0, 8).Select(async i =>
            {
                try
                {
                    await fixture.Client.GetChannel($"{tenant.Id}/channel/c{i}").CreateAsync(new NewChannel($"c{i}"));
                    return null;
                }
                catch (LimitExceededException refused)
                {
                    return refused.Limit;
                }
            }));
            Assert.Equal(5, attempts.Count(a => a is null));
            Assert.All(attempts.Where(a => a is not null), limit => Assert.Equal("Chat:MaxPerTenant", limit));

            var dm = fixture.Client.GetDirectChannel(tenant.Id, ["owner", "bob"]);
            await dm.OpenDirectAsync(["bob"]);
            await dm.PostAsync(new NewMessage("not counted"));
        }

        var listed = await fixture.WaitForDirectoryAsync(tenant.Id, tenant.OwnerKey, e => e.Count == 5);
        Assert.DoesNotContain(listed, e => e.Key.Contains("/channel/dm-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_watcher_behind_the_feeds_age_must_resync_and_one_within_it_goes_on()
    {
        var c = await kit.Cluster.NewChannelAsync();
        using (ClusterFixture.As(c.AnnKey))
        {
            var start = (await c.Channel.GetAsync()).Version;
            var old = await c.Channel.PostAsync(new NewMessage("old news"));
            await Task.Delay(TimeSpan.FromSeconds(2.5));
            var fresh = await c.Channel.PostAsync(new NewMessage("fresh"));

            await using (var behind = c.Channel.WatchAsync(start).GetAsyncEnumerator())
            {
                var resync = await Assert.ThrowsAsync<ResyncRequiredException>(() => behind.MoveNextAsync().AsTask());
                Assert.Equal(fresh.Version, resync.OldestRetained);
            }

            await using var within = c.Channel.WatchAsync(old.Version).GetAsyncEnumerator();
            Assert.Equal(fresh.Version, (await within.TakeAsync(1))[0].Sequence);
        }
    }
}
