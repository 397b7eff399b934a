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

            // Past the burst (3 here) the next mutation is refused, unless the bucket refilled meanwhile (5 a second
            // here: a loaded machine may take 200 ms for those three), so a few more posts in a row reach it anyway.
            RateLimitedException? refused = null;
            for (var i = 0; refused is null && i < 20; i++)
            {
                var version = (await c.Channel.GetAsync()).Version;
                try
                {
                    await c.Channel.PostAsync(new NewMessage($"more {i}"));
                }
                catch (RateLimitedException limited)
                {
                    refused = limited;
                    Assert.Equal(version, (await c.Channel.GetAsync()).Version);
                }
            }

            Assert.NotNull(refused);
            Assert.Equal("Chat:PostRate", refused.Limit);
            Assert.InRange(refused.RetryAfter, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(200));

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
