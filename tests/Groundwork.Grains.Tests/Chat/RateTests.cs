using Groundwork.Chat;
using Groundwork.Grains.Tests.Kit;
using Groundwork.Testing;
using Xunit;

namespace Groundwork.Grains.Tests.Chat;

/// <summary>The per-member rate, on the kit cluster, whose chat allows a burst of 3 and then 5 a second.</summary>
[Collection(KitCollection.Name)]
public sealed class RateTests(KitFixture kit)
{
    [Fact]
    public async Task A_member_past_the_burst_is_refused_with_the_time_to_wait_and_then_goes_on()
    {
        var c = await kit.Cluster.NewChannelAsync();
        using (ClusterFixture.As(c.AnnKey))
        {
            var seq = (await c.Channel.PostAsync(new NewMessage("one"))).Version;
            await c.Channel.ReactAsync(seq, "👍");
            await c.Channel.EditAsync(seq, "one!");
            var version = (await c.Channel.GetAsync()).Version;
            var refused = await Assert.ThrowsAsync<RateLimitedException>(() => c.Channel.PostAsync(new NewMessage("four")));
            Assert.Equal("Chat:PostRate", refused.Limit);
            Assert.InRange(refused.RetryAfter, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(200));
            Assert.Equal(version, (await c.Channel.GetAsync()).Version);

            // A retry of an acknowledged post is answered, not counted.
            var options = new MutationOptions(OperationId: "again");
            await Task.Delay(refused.RetryAfter);
            var first = await c.Channel.PostAsync(new NewMessage("five"), options);
            Assert.True((await c.Channel.PostAsync(new NewMessage("five"), options)).Replayed);
            Assert.Equal(first.Version, (await c.Channel.GetAsync()).Version);

            // Marking read is not rate limited, and others have their own buckets.
            await c.Channel.MarkReadAsync(first.Version);
        }

        using (ClusterFixture.As(c.BobKey))
        {
            await c.Channel.PostAsync(new NewMessage("bob's own"));
        }
    }
}
