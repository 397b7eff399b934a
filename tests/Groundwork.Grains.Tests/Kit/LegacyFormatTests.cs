using System.Text.Json;
using Groundwork.Lists;
using Groundwork.Tenants;
using Groundwork.Testing;
using Xunit;

namespace Groundwork.Grains.Tests.Kit;

/// <summary>
/// A database written by the release before the kit (Fixtures/lists-v1.db, made at commit 5fd3af6) still loads:
/// every list reads back as it was, its feed and operation ids included, and takes new writes that survive a restart.
/// </summary>
public sealed class LegacyFormatTests
{
    private sealed record Expected(string Tenant, string OwnerKey, string EditorKey, List<ListSnapshot> Snapshots);

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    [Fact]
    public async Task Lists_stored_by_the_previous_release_read_back_intact_and_take_new_writes()
    {
        var expected = JsonSerializer.Deserialize<Expected>(File.ReadAllText(Fixture("lists-v1.json")))!;
        var folder = Directory.CreateTempSubdirectory("groundwork-legacy-").FullName;
        var database = Path.Combine(folder, "groundwork.db");
        File.Copy(Fixture("lists-v1.db"), database);

        string? addedId;
        await using (var cluster = ClusterFixture.OnDatabase(database, ClusterFixture.Settings))
        {
            await cluster.InitializeAsync();
            using (ClusterFixture.As(expected.OwnerKey))
            {
                foreach (var snapshot in expected.Snapshots)
                {
                    AssertSame(snapshot, await cluster.Client.GetList(snapshot.Key).GetAsync());
                }

                var groceries = cluster.Client.GetList(expected.Snapshots[0].Key);

                // The retained feed came along, in order, from the first change.
                await using var feed = groceries.WatchAsync(0).GetAsyncEnumerator();
                var changes = await feed.TakeAsync(8);
                Assert.Equal(Enumerable.Range(1, 8).Select(i => (long)i), changes.Select(c => c.Sequence));
                Assert.Equal(ListChangeKind.ListCreated, changes[0].Kind);

                // So did the operation ids: a retry of an old add is answered with its first result.
                var retry = await groceries.AddItemAsync(new NewItem("Milk", "2 litres", "owner", new DateOnly(2026, 11, 30)), options: new MutationOptions(OperationId: "op-milk"));
                Assert.Equal((2L, "i1", true), (retry.Version, retry.Id, retry.Replayed));

                // The directory's entries too.
                var entries = await cluster.Client.GetTenantDirectory(expected.Tenant).ListAsync();
                Assert.Equal(["Empty", "Groceries", "House chores"], entries.Select(e => e.Title).Order(StringComparer.Ordinal));
            }

            // Access came along: the editor may write the list it was given.
            using (ClusterFixture.As(expected.EditorKey))
            {
                var added = await cluster.Client.GetList(expected.Snapshots[0].Key).AddItemAsync(new NewItem("Butter"));
                addedId = added.Id;
                Assert.Equal(expected.Snapshots[0].Version + 1, added.Version);
            }
        }

        // After a restart, on the new format: the old items, and the new one after them.
        await using (var cluster = ClusterFixture.OnDatabase(database, ClusterFixture.Settings))
        {
            await cluster.InitializeAsync();
            using (ClusterFixture.As(expected.OwnerKey))
            {
                var groceries = await cluster.Client.GetList(expected.Snapshots[0].Key).GetAsync();
                Assert.Equal(expected.Snapshots[0].Items.Select(i => i.Id).Append(addedId), groceries.Items.Select(i => i.Id));
                Assert.Equal(expected.Snapshots[0].Version + 1, groceries.Version);
                foreach (var snapshot in expected.Snapshots.Skip(1))
                {
                    AssertSame(snapshot, await cluster.Client.GetList(snapshot.Key).GetAsync());
                }

                var chores = cluster.Client.GetList(expected.Snapshots[1].Key);
                var write = await chores.AddItemAsync(new NewItem("One more"));
                Assert.Equal(expected.Snapshots[1].Version + 1, write.Version);
            }
        }

        Directory.Delete(folder, recursive: true);
    }

    private static void AssertSame(ListSnapshot expected, ListSnapshot actual)
    {
        Assert.Equal((expected.Key, expected.Title, expected.Version), (actual.Key, actual.Title, actual.Version));
        Assert.Equal(expected.Items, actual.Items);
        Assert.Equal((expected.Access.Owner, expected.Access.TenantReadable), (actual.Access.Owner, actual.Access.TenantReadable));
        Assert.Equal(expected.Access.Editors, actual.Access.Editors);
        Assert.Equal(expected.Access.Viewers, actual.Access.Viewers);
    }
}
