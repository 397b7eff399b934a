using Groundwork.Lists;
using Groundwork.Testing;
using Xunit;

namespace Groundwork.Grains.Tests.Kit;

/// <summary>
/// The newest feed entries and operation records live in the head's tail until they fill a row batch. Whatever the
/// tail holds when a resource deactivates (nothing, a few rows, rows past retention), what it reloads is exactly what
/// it had: the retained feed in order, every remembered operation id, the next version.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class TailTests(ClusterFixture fixture)
{
    // The shared cluster keeps 50 changes (Groundwork:Lists:FeedRetention): 49 to 53 cross it, with the tail
    // holding from zero to several rows, some of them past retention.
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(8)]
    [InlineData(13)]
    [InlineData(49)]
    [InlineData(50)]
    [InlineData(51)]
    [InlineData(53)]
    [InlineData(99)]
    public async Task What_a_list_reloads_after_any_number_of_mutations_is_what_it_had(int mutations)
    {
        var (_, list, ownerKey) = await fixture.NewListAsync("Tail");
        using (ClusterFixture.As(ownerKey))
        {
            var results = new List<MutationResult>();
            for (var i = 0; i < mutations; i++)
            {
                results.Add(await list.AddItemAsync(new NewItem($"item {i}"), options: new MutationOptions(OperationId: $"op-{i}")));
            }

            var before = await ReadFeedAsync(list);
            await fixture.Cluster.DeactivateAsync(list);

            var snapshot = await list.GetAsync();
            Assert.Equal(mutations + 1, snapshot.Version);
            Assert.Equal(Enumerable.Range(0, mutations).Select(i => $"item {i}"), snapshot.Items.Select(i => i.Title));
            var after = await ReadFeedAsync(list);
            Assert.Equal(before.Select(c => (c.Sequence, c.Kind, c.Item?.Title)), after.Select(c => (c.Sequence, c.Kind, c.Item?.Title)));
            Assert.Equal(Math.Min(50, mutations + 1), after.Count);
            Assert.Equal(mutations + 1, after[^1].Sequence);

            for (var i = 0; i < mutations; i++)
            {
                var replay = await list.AddItemAsync(new NewItem($"item {i}"), options: new MutationOptions(OperationId: $"op-{i}"));
                Assert.True(replay.Replayed, $"op-{i} was forgotten");
                Assert.Equal(results[i].Version, replay.Version);
            }

            var next = await list.AddItemAsync(new NewItem("next"), options: new MutationOptions(OperationId: "op-next"));
            Assert.Equal(mutations + 2, next.Version);
        }
    }

    /// <summary>Every retained change, from the oldest one kept.</summary>
    private static async Task<List<ListChange>> ReadFeedAsync(IListGrain list)
    {
        var version = (await list.GetAsync()).Version;
        var changes = new List<ListChange>();
        // Retained changes come at once; a lost one would leave the feed waiting for it.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await foreach (var change in list.WatchAsync(Math.Max(0, version - 50), timeout.Token))
        {
            changes.Add(change);
            if (change.Sequence == version)
            {
                break;
            }
        }

        return changes;
    }
}
