using Groundwork.Grains.Storage;
using Groundwork.Lists;
using Groundwork.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Groundwork.Grains.Tests.Kit;

/// <summary>
/// An idle resource does not hold its retained feed: the first watcher reads it from storage (the rows, then the
/// newer ones in the head's tail). A commit moves rows from the tail into their collection, so a watcher that comes
/// while one is under way must still see every change, once, in order.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class FeedLoadTests(ClusterFixture fixture)
{
    // Some of these commits leave rows in the tail, others move the tail into the feed's rows (about every fourth).
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public async Task A_first_watcher_that_comes_during_a_commit_sees_every_change_once(int before)
    {
        var (_, list, ownerKey) = await fixture.NewListAsync("Feed load");
        using (ClusterFixture.As(ownerKey))
        {
            for (var i = 0; i < before; i++)
            {
                await list.AddItemAsync(new NewItem($"item {i}"), options: new MutationOptions(OperationId: $"op-{i}"));
            }

            // Hold the next commit on every silo before it reaches the file: staged in the grain, not yet stored.
            var databases = fixture.Cluster.Silos.Select(s => s.ServiceProvider.GetRequiredService<SqliteDatabase>()).ToList();
            using var holding = new SemaphoreSlim(0);
            using var release = new ManualResetEventSlim();
            foreach (var database in databases)
            {
                database.BeforeTransaction = () =>
                {
                    holding.Release();
                    release.Wait();
                };
            }

            try
            {
                var held = list.AddItemAsync(new NewItem("held"), options: new MutationOptions(OperationId: "op-held"));
                Assert.True(await holding.WaitAsync(TimeSpan.FromSeconds(10)), "the commit never reached the writer");

                // The first watcher of this activation comes while that commit is under way.
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                var feed = list.WatchAsync(0, timeout.Token).GetAsyncEnumerator(timeout.Token);
                var first = feed.MoveNextAsync().AsTask();
                await Task.Delay(300);
                release.Set();
                Assert.Equal(before + 2, (await held).Version);

                Assert.True(await first);
                var changes = new List<ListChange> { feed.Current };
                while (changes[^1].Sequence < before + 2 && await feed.MoveNextAsync())
                {
                    changes.Add(feed.Current);
                }

                await feed.DisposeAsync();
                Assert.Equal(Enumerable.Range(1, before + 2).Select(s => (long)s), changes.Select(c => c.Sequence));
                Assert.Equal([.. Enumerable.Range(0, before).Select(i => $"item {i}"), "held"], changes.Skip(1).Select(c => c.Item!.Title));
            }
            finally
            {
                release.Set();
                foreach (var database in databases)
                {
                    database.BeforeTransaction = static () => { };
                }
            }
        }
    }
}
