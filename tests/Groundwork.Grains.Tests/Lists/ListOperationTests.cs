using Groundwork.Lists;
using Groundwork.Testing;
using Xunit;

namespace Groundwork.Grains.Tests.Lists;

[Collection(ClusterCollection.Name)]
public sealed class ListOperationTests(ClusterFixture fixture)
{
    private static async Task<string[]> TitlesAsync(IListGrain list) =>
        (await list.GetAsync()).Items.Select(i => i.Title).ToArray();

    [Fact]
    public async Task Creating_a_list_gives_version_1_an_empty_snapshot_and_the_creator_as_owner()
    {
        var (list, ownerKey) = await fixture.NewListAsync("Groceries");
        using (ClusterFixture.As(ownerKey))
        {
            var snapshot = await list.GetAsync();
            Assert.Equal("Groceries", snapshot.Title);
            Assert.Equal(1, snapshot.Version);
            Assert.Empty(snapshot.Items);
            Assert.Equal("owner", snapshot.Access.Owner);
        }
    }

    [Fact]
    public async Task Creating_a_list_twice_is_refused_with_already_exists()
    {
        var (list, ownerKey) = await fixture.NewListAsync("Groceries");
        using (ClusterFixture.As(ownerKey))
        {
            await Assert.ThrowsAsync<AlreadyExistsException>(() => list.CreateAsync("Again"));
            Assert.Equal(1, (await list.GetAsync()).Version);
        }
    }

    [Fact]
    public async Task Reading_a_list_that_was_never_created_is_not_found()
    {
        var tenant = await fixture.NewTenantAsync();
        using (ClusterFixture.As(tenant.OwnerKey))
        {
            var error = await Assert.ThrowsAsync<NotFoundException>(() => fixture.Client.GetList(tenant.ListKey()).GetAsync());
            Assert.Equal("list", error.Kind);
        }
    }

    [Fact]
    public async Task Renaming_changes_the_title_and_the_version()
    {
        var (list, ownerKey) = await fixture.NewListAsync("Groceries");
        using (ClusterFixture.As(ownerKey))
        {
            var result = await list.RenameAsync("Weekend shopping");
            var snapshot = await list.GetAsync();
            Assert.Equal("Weekend shopping", snapshot.Title);
            Assert.Equal(2, result.Version);
            Assert.Equal(2, snapshot.Version);
        }
    }

    [Fact]
    public async Task Adding_at_a_position_inserts_there_and_without_one_appends()
    {
        var (list, ownerKey) = await fixture.NewListAsync("Groceries");
        using (ClusterFixture.As(ownerKey))
        {
            await list.AddItemAsync(new NewItem("milk"));
            await list.AddItemAsync(new NewItem("bread"));
            await list.AddItemAsync(new NewItem("eggs"), position: 0);
            await list.AddItemAsync(new NewItem("butter"), position: 2);
            await list.AddItemAsync(new NewItem("jam"), position: 99);
            Assert.Equal(["eggs", "milk", "butter", "bread", "jam"], await TitlesAsync(list));
        }
    }

    [Fact]
    public async Task A_negative_position_is_refused_and_changes_nothing()
    {
        var (list, ownerKey) = await fixture.NewListAsync("Groceries");
        using (ClusterFixture.As(ownerKey))
        {
            var error = await Assert.ThrowsAsync<InvalidRequestException>(() => list.AddItemAsync(new NewItem("milk"), position: -1));
            Assert.Equal("position", error.Field);
            Assert.Equal(1, (await list.GetAsync()).Version);
        }
    }

    [Fact]
    public async Task Adding_keeps_every_field_and_gives_distinct_ids()
    {
        var (list, ownerKey) = await fixture.NewListAsync("Groceries");
        using (ClusterFixture.As(ownerKey))
        {
            var due = new DateOnly(2026, 12, 24);
            var a = await list.AddItemAsync(new NewItem("milk", "2 litres", "owner", due));
            var b = await list.AddItemAsync(new NewItem("bread"));
            Assert.NotEqual(a.Id, b.Id);
            var item = (await list.GetAsync()).Items.Single(i => i.Id == a.Id);
            Assert.Equal(new ListItem(a.Id!, "milk", "2 litres", false, "owner", due), item);
        }
    }

    [Fact]
    public async Task Editing_changes_only_the_fields_given_and_can_clear_them()
    {
        var (list, ownerKey) = await fixture.NewListAsync("Groceries");
        using (ClusterFixture.As(ownerKey))
        {
            var id = (await list.AddItemAsync(new NewItem("milk", "2 litres", "ann", new DateOnly(2026, 12, 1)))).Id!;
            await list.EditItemAsync(id, new ItemEdit(Title: "oat milk"));
            var item = (await list.GetAsync()).Items.Single();
            Assert.Equal(("oat milk", "2 litres", "ann", (DateOnly?)new DateOnly(2026, 12, 1)), (item.Title, item.Notes, item.Assignee, item.Due));

            await list.EditItemAsync(id, new ItemEdit(Notes: "", ClearAssignee: true, ClearDue: true));
            item = (await list.GetAsync()).Items.Single();
            Assert.Equal(("oat milk", "", null, null), (item.Title, item.Notes, item.Assignee, item.Due));
        }
    }

    [Fact]
    public async Task Setting_and_clearing_the_same_field_is_refused()
    {
        var (list, ownerKey) = await fixture.NewListAsync("Groceries");
        using (ClusterFixture.As(ownerKey))
        {
            var id = (await list.AddItemAsync(new NewItem("milk"))).Id!;
            await Assert.ThrowsAsync<InvalidRequestException>(() => list.EditItemAsync(id, new ItemEdit(Assignee: "ann", ClearAssignee: true)));
        }
    }

    [Fact]
    public async Task Moving_before_and_after_another_item_keeps_the_order_everyone_sees()
    {
        var (list, ownerKey) = await fixture.NewListAsync("Groceries");
        using (ClusterFixture.As(ownerKey))
        {
            var ids = new List<string>();
            foreach (var title in new[] { "a", "b", "c", "d", "e" })
            {
                ids.Add((await list.AddItemAsync(new NewItem(title))).Id!);
            }

            await list.MoveItemAsync(ids[4], Placement.Before, ids[0]);
            Assert.Equal(["e", "a", "b", "c", "d"], await TitlesAsync(list));
            await list.MoveItemAsync(ids[0], Placement.After, ids[3]);
            Assert.Equal(["e", "b", "c", "d", "a"], await TitlesAsync(list));
            await list.MoveItemAsync(ids[2], Placement.After, ids[0]);
            Assert.Equal(["e", "b", "d", "a", "c"], await TitlesAsync(list));
            await list.MoveItemAsync(ids[1], Placement.Before, ids[2]);
            Assert.Equal(["e", "d", "a", "b", "c"], await TitlesAsync(list));
        }
    }

    [Fact]
    public async Task Moving_an_item_relative_to_itself_or_to_a_missing_item_is_refused()
    {
        var (list, ownerKey) = await fixture.NewListAsync("Groceries");
        using (ClusterFixture.As(ownerKey))
        {
            var id = (await list.AddItemAsync(new NewItem("a"))).Id!;
            await Assert.ThrowsAsync<InvalidRequestException>(() => list.MoveItemAsync(id, Placement.Before, id));
            var missing = await Assert.ThrowsAsync<NotFoundException>(() => list.MoveItemAsync(id, Placement.Before, "i999"));
            Assert.Equal("item", missing.Kind);
            Assert.Equal(2, (await list.GetAsync()).Version);
        }
    }

    [Fact]
    public async Task Completing_and_reopening_flip_done()
    {
        var (list, ownerKey) = await fixture.NewListAsync("Groceries");
        using (ClusterFixture.As(ownerKey))
        {
            var id = (await list.AddItemAsync(new NewItem("a"))).Id!;
            await list.CompleteItemAsync(id);
            Assert.True((await list.GetAsync()).Items.Single().Done);
            await list.ReopenItemAsync(id);
            Assert.False((await list.GetAsync()).Items.Single().Done);
        }
    }

    [Fact]
    public async Task Removing_takes_the_item_out_and_a_second_removal_is_not_found()
    {
        var (list, ownerKey) = await fixture.NewListAsync("Groceries");
        using (ClusterFixture.As(ownerKey))
        {
            var a = (await list.AddItemAsync(new NewItem("a"))).Id!;
            await list.AddItemAsync(new NewItem("b"));
            await list.RemoveItemAsync(a);
            Assert.Equal(["b"], await TitlesAsync(list));
            await Assert.ThrowsAsync<NotFoundException>(() => list.RemoveItemAsync(a));
        }
    }

    [Fact]
    public async Task Clearing_completed_removes_only_done_items_and_says_how_many()
    {
        var (list, ownerKey) = await fixture.NewListAsync("Groceries");
        using (ClusterFixture.As(ownerKey))
        {
            var ids = new List<string>();
            foreach (var title in new[] { "a", "b", "c", "d" })
            {
                ids.Add((await list.AddItemAsync(new NewItem(title))).Id!);
            }

            await list.CompleteItemAsync(ids[0]);
            await list.CompleteItemAsync(ids[2]);
            var result = await list.ClearCompletedAsync();
            Assert.Equal(2, result.Count);
            Assert.Equal(["b", "d"], await TitlesAsync(list));
        }
    }

    [Fact]
    public async Task Every_mutation_advances_the_version_by_exactly_one()
    {
        var (list, ownerKey) = await fixture.NewListAsync("Groceries");
        using (ClusterFixture.As(ownerKey))
        {
            var versions = new List<long>
            {
                (await list.AddItemAsync(new NewItem("a"))).Version,
                (await list.AddItemAsync(new NewItem("b"))).Version,
            };
            var id = (await list.GetAsync()).Items[0].Id;
            versions.Add((await list.CompleteItemAsync(id)).Version);
            versions.Add((await list.ClearCompletedAsync()).Version);
            versions.Add((await list.RenameAsync("x")).Version);
            Assert.Equal([2L, 3, 4, 5, 6], versions);
        }
    }

    [Fact]
    public async Task A_created_list_is_listed_in_its_tenant_directory_with_its_current_title()
    {
        var tenant = await fixture.NewTenantAsync();
        var key = tenant.ListKey("chores");
        using (ClusterFixture.As(tenant.OwnerKey))
        {
            await fixture.Client.GetList(key).CreateAsync("Chores");
            await fixture.Client.GetList(key).RenameAsync("House chores");
        }

        var entries = await fixture.WaitForDirectoryAsync(tenant.Id, tenant.OwnerKey, e => e.Any(x => x.Title == "House chores"));
        var entry = Assert.Single(entries);
        Assert.Equal((key, ResourceKinds.Of<IListGrain>(), "owner"), (entry.Key, entry.Kind, entry.CreatedBy));
    }

    [Fact]
    public async Task State_survives_deactivation()
    {
        var (list, ownerKey) = await fixture.NewListAsync("Groceries");
        using (ClusterFixture.As(ownerKey))
        {
            await list.AddItemAsync(new NewItem("a"));
            var before = await list.GetAsync();
            await fixture.Cluster.DeactivateAsync(list);
            var after = await list.GetAsync();
            Assert.Equal(before.Version, after.Version);
            Assert.Equal(before.Items, after.Items);
        }
    }
}
