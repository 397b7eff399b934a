using Groundwork.Chat;
using Groundwork.Client;
using Groundwork.Testing;
using Xunit;

namespace Groundwork.Grains.Tests.Chat;

[Collection(ClusterCollection.Name)]
public sealed class FailoverTests(ClusterFixture fixture)
{
    [Fact]
    public async Task A_post_whose_acknowledgement_was_lost_retried_across_a_kill_of_its_silo_makes_exactly_one_message()
    {
        var cluster = fixture.Cluster;
        var primary = cluster.Silos[0].SiloAddress;
        var management = fixture.Client.GetGrain<IManagementGrain>(0);
        TestChannel c;
        SiloAddress? host;
        var attempts = 0;
        do
        {
            // Kill a silo that is not the primary (which holds the test cluster's membership).
            c = await fixture.NewChannelAsync();
            using (ClusterFixture.As(fixture.OperatorKey))
            {
                host = await management.GetActivationAddress(c.Channel);
            }
        }
        while ((host is null || host.Equals(primary)) && ++attempts < 40);

        Assert.NotEqual(primary, host);
        using (ClusterFixture.As(c.AnnKey))
        {
            var options = new MutationOptions(OperationId: "send-once");
            var message = new NewMessage("exactly once", Mentions: ["bob"]);
            var first = await c.Channel.PostAsync(message, options); // its answer "lost": the client retries below
            try
            {
                await cluster.KillSiloAsync(cluster.Silos.Single(s => s.SiloAddress.Equals(host)));
                using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
                MutationResult retried;
                while (true)
                {
                    try
                    {
                        retried = await c.Channel.PostAsync(message, options);
                        break;
                    }
                    catch (Exception exception) when (ResourceFeed.IsTransient(exception) && !deadline.IsCancellationRequested)
                    {
                        await Task.Delay(100, deadline.Token);
                    }
                }

                Assert.Equal((first.Version, true), (retried.Version, retried.Replayed));
                Assert.Single((await c.Channel.GetHistoryAsync()).Messages, m => m.Text == "exactly once");
                var posted = await c.Channel.PostAsync(new NewMessage("and the next"));
                Assert.Equal(first.Version + 1, posted.Version);
            }
            finally
            {
                await cluster.StartAdditionalSiloAsync();
                await cluster.WaitForLivenessToStabilizeAsync();
            }
        }

        using (ClusterFixture.As(c.BobKey))
        {
            Assert.Equal((1, 2), (await c.Channel.GetUnreadAsync()) is var state ? (state.Mentions, state.Unread) : default);
        }
    }
}
