using Groundwork.Grains.Lists;
using Groundwork.Lists;
using Groundwork.Testing;
using Xunit;

namespace Groundwork.Grains.Tests.Lists;

[Collection(ClusterCollection.Name)]
public sealed class LimitTests(ClusterFixture fixture)
{
    private static readonly ListOptions Defaults = new();

    private static async Task AssertLimitAsync(string limit, long maximum, Func<Task> call, IListGrain list)
    {
        var before = (await list.GetAsync()).Version;
        var error = await Assert.ThrowsAsync<LimitExceededException>(call);
        Assert.Equal((limit, maximum), (error.Limit, error.Maximum));
        Assert.Equal(before, (await list.GetAsync()).Version);
    }

    [Fact]
    public void The_documented_defaults_hold()
    {
        Assert.Equal((10_000, 500, 10_000, 200), (Defaults.MaxItems, Defaults.MaxItemTitleLength, Defaults.MaxNotesLength, Defaults.MaxTitleLength));
    }

    [Fact]
    public async Task An_item_title_of_500_characters_is_accepted_and_501_is_refused_naming_the_limit()
    {
        var (list, ownerKey) = await fixture.NewListAsync("Limits");
        using (ClusterFixture.As(ownerKey))
        {
            await list.AddItemAsync(new NewItem(new string('t', 500)));
            await AssertLimitAsync("Lists:MaxItemTitleLength", 500, () => list.AddItemAsync(new NewItem(new string('t', 501))), list);
            var id = (await list.GetAsync()).Items[0].Id;
            await AssertLimitAsync("Lists:MaxItemTitleLength", 500, () => list.EditItemAsync(id, new ItemEdit(Title: new string('t', 501))), list);
        }
    }

    [Fact]
    public async Task Notes_of_10000_characters_are_accepted_and_10001_are_refused_naming_the_limit()
    {
        var (list, ownerKey) = await fixture.NewListAsync("Limits");
        using (ClusterFixture.As(ownerKey))
        {
            var id = (await list.AddItemAsync(new NewItem("n", new string('n', 10_000)))).Id!;
            await AssertLimitAsync("Lists:MaxNotesLength", 10_000, () => list.EditItemAsync(id, new ItemEdit(Notes: new string('n', 10_001))), list);
            await AssertLimitAsync("Lists:MaxNotesLength", 10_000, () => list.AddItemAsync(new NewItem("n", new string('n', 10_001))), list);
        }
    }

    [Fact]
    public async Task A_list_title_past_its_limit_is_refused()
    {
        var (list, ownerKey) = await fixture.NewListAsync("Limits");
        using (ClusterFixture.As(ownerKey))
        {
            await AssertLimitAsync("Lists:MaxTitleLength", 200, () => list.RenameAsync(new string('x', 201)), list);
        }
    }

    [Fact]
    public async Task Adding_past_the_configured_item_limit_is_refused_naming_the_limit()
    {
        // The fixture configures Groundwork:Lists:MaxItems low, so this checks the option is bound and enforced
        // without writing 10,000 items; the default of 10,000 is pinned by The_documented_defaults_hold.
        var maxItems = int.Parse(ClusterFixture.Settings["Groundwork:Lists:MaxItems"]!, System.Globalization.CultureInfo.InvariantCulture);
        var (list, ownerKey) = await fixture.NewListAsync("Limits");
        using (ClusterFixture.As(ownerKey))
        {
            for (var i = 0; i < maxItems; i++)
            {
                await list.AddItemAsync(new NewItem($"item {i}"));
            }

            await AssertLimitAsync("Lists:MaxItems", maxItems, () => list.AddItemAsync(new NewItem("one too many")), list);
            Assert.Equal(maxItems, (await list.GetAsync()).Items.Count);
        }
    }

    [Fact]
    public async Task Too_many_access_list_entries_are_refused()
    {
        var (list, ownerKey) = await fixture.NewListAsync("Limits");
        using (ClusterFixture.As(ownerKey))
        {
            var editors = Enumerable.Range(0, 600).Select(i => $"e{i}").ToList();
            var viewers = Enumerable.Range(0, 401).Select(i => $"v{i}").ToList();
            await AssertLimitAsync("Lists:MaxAccessEntries", 1_000, () => list.SetAccessAsync(editors, viewers, true), list);
        }
    }

    [Fact]
    public async Task Empty_titles_and_overlong_operation_ids_are_refused_as_invalid()
    {
        var (list, ownerKey) = await fixture.NewListAsync("Limits");
        using (ClusterFixture.As(ownerKey))
        {
            Assert.Equal("title", (await Assert.ThrowsAsync<InvalidRequestException>(() => list.AddItemAsync(new NewItem("  ")))).Field);
            Assert.Equal("title", (await Assert.ThrowsAsync<InvalidRequestException>(() => list.RenameAsync(""))).Field);
            var longId = new MutationOptions(OperationId: new string('o', 129));
            Assert.Equal("OperationId", (await Assert.ThrowsAsync<InvalidRequestException>(() => list.RenameAsync("x", longId))).Field);
        }
    }
}
