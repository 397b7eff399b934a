using Groundwork.Lists;
using Groundwork.Testing;
using Xunit;

namespace Groundwork.Grains.Tests.Lists;

[Collection(ClusterCollection.Name)]
public sealed class ConcurrencyTests(ClusterFixture fixture)
{
    [Fact]
    public async Task A_mutation_with_the_current_version_applies()
    {
        var (list, ownerKey) = await fixture.NewListAsync("List");
        using (ClusterFixture.As(ownerKey))
        {
            var result = await list.AddItemAsync(new NewItem("a"), options: new MutationOptions(ExpectedVersion: 1));
            Assert.Equal(2, result.Version);
        }
    }

    [Fact]
    public async Task A_mutation_with_a_stale_version_is_a_conflict_with_the_current_version_and_changes_nothing()
    {
        var (list, ownerKey) = await fixture.NewListAsync("List");
        using (ClusterFixture.As(ownerKey))
        {
            await list.AddItemAsync(new NewItem("a"));
            var conflict = await Assert.ThrowsAsync<VersionConflictException>(
                () => list.RenameAsync("b", new MutationOptions(ExpectedVersion: 1)));
            Assert.Equal((1L, 2L), (conflict.ExpectedVersion, conflict.CurrentVersion));
            var snapshot = await list.GetAsync();
            Assert.Equal(("List", 2L), (snapshot.Title, snapshot.Version));
        }
    }

    [Fact]
    public async Task Two_writers_racing_on_one_version_one_wins_and_the_other_gets_a_conflict()
    {
        var (list, ownerKey) = await fixture.NewListAsync("List");
        using (ClusterFixture.As(ownerKey))
        {
            var outcomes = await Task.WhenAll(Enumerable.Range(0, 2).Select(async i =>
            {
                try
                {
                    await list.AddItemAsync(new NewItem($"w{i}"), options: new MutationOptions(ExpectedVersion: 1));
                    return "ok";
                }
                catch (VersionConflictException)
                {
                    return "conflict";
                }
            }));
            Assert.Equal(["conflict", "ok"], outcomes.Order());
            Assert.Single((await list.GetAsync()).Items);
        }
    }

    [Fact]
    public async Task Retrying_an_operation_id_returns_the_first_result_and_applies_once()
    {
        var (list, ownerKey) = await fixture.NewListAsync("List");
        using (ClusterFixture.As(ownerKey))
        {
            var options = new MutationOptions(OperationId: "op-1");
            var first = await list.AddItemAsync(new NewItem("milk"), options: options);
            var retry = await list.AddItemAsync(new NewItem("milk"), options: options);
            Assert.False(first.Replayed);
            Assert.True(retry.Replayed);
            Assert.Equal((first.Version, first.Id), (retry.Version, retry.Id));
            var snapshot = await list.GetAsync();
            Assert.Single(snapshot.Items);
            Assert.Equal(2, snapshot.Version);
        }
    }

    [Fact]
    public async Task A_retry_that_carries_the_old_expected_version_is_answered_not_refused()
    {
        var (list, ownerKey) = await fixture.NewListAsync("List");
        using (ClusterFixture.As(ownerKey))
        {
            var options = new MutationOptions(ExpectedVersion: 1, OperationId: "op-x");
            var first = await list.RenameAsync("New", options);
            var retry = await list.RenameAsync("New", options);
            Assert.Equal(first.Version, retry.Version);
            Assert.True(retry.Replayed);
        }
    }

    [Fact]
    public async Task An_operation_id_is_remembered_across_deactivation()
    {
        var (list, ownerKey) = await fixture.NewListAsync("List");
        using (ClusterFixture.As(ownerKey))
        {
            var options = new MutationOptions(OperationId: "op-durable");
            var first = await list.AddItemAsync(new NewItem("a"), options: options);
            await fixture.Cluster.DeactivateAsync(list);
            var retry = await list.AddItemAsync(new NewItem("a"), options: options);
            Assert.Equal(first.Id, retry.Id);
            Assert.Single((await list.GetAsync()).Items);
        }
    }

    [Fact]
    public async Task Different_operation_ids_each_apply()
    {
        var (list, ownerKey) = await fixture.NewListAsync("List");
        using (ClusterFixture.As(ownerKey))
        {
            await list.AddItemAsync(new NewItem("a"), options: new MutationOptions(OperationId: "1"));
            await list.AddItemAsync(new NewItem("a"), options: new MutationOptions(OperationId: "2"));
            Assert.Equal(2, (await list.GetAsync()).Items.Count);
        }
    }

    [Fact]
    public async Task A_refused_mutation_does_not_consume_its_operation_id()
    {
        var (list, ownerKey) = await fixture.NewListAsync("List");
        using (ClusterFixture.As(ownerKey))
        {
            var options = new MutationOptions(OperationId: "op-late");
            await Assert.ThrowsAsync<InvalidRequestException>(() => list.AddItemAsync(new NewItem(""), options: options));
            var result = await list.AddItemAsync(new NewItem("fixed"), options: options);
            Assert.False(result.Replayed);
            Assert.Single((await list.GetAsync()).Items);
        }
    }

    [Fact]
    public async Task Reusing_an_operation_id_for_another_kind_of_mutation_is_refused()
    {
        var (list, ownerKey) = await fixture.NewListAsync("List");
        using (ClusterFixture.As(ownerKey))
        {
            var id = (await list.AddItemAsync(new NewItem("a"), options: new MutationOptions(OperationId: "op-shared"))).Id!;
            var error = await Assert.ThrowsAsync<OperationConflictException>(() => list.RemoveItemAsync(id, new MutationOptions(OperationId: "op-shared")));
            Assert.Equal("op-shared", error.OperationId);
            Assert.Single((await list.GetAsync()).Items);
        }
    }

    [Fact]
    public async Task Reusing_an_operation_id_with_other_arguments_is_a_conflict_not_a_replay_even_after_a_restart()
    {
        var (list, ownerKey) = await fixture.NewListAsync("List");
        using (ClusterFixture.As(ownerKey))
        {
            var options = new MutationOptions(OperationId: "op-args");
            await list.AddItemAsync(new NewItem("milk"), options: options);
            await Assert.ThrowsAsync<OperationConflictException>(() => list.AddItemAsync(new NewItem("bread"), options: options));
            await Assert.ThrowsAsync<OperationConflictException>(() => list.AddItemAsync(new NewItem("milk"), position: 0, options: options));
            await fixture.Cluster.DeactivateAsync(list);
            await Assert.ThrowsAsync<OperationConflictException>(() => list.AddItemAsync(new NewItem("bread"), options: options));
            Assert.True((await list.AddItemAsync(new NewItem("milk"), options: options)).Replayed);
            Assert.Equal(["milk"], (await list.GetAsync()).Items.Select(i => i.Title));
        }
    }

    [Fact]
    public async Task Another_caller_reusing_an_operation_id_does_not_get_the_first_callers_result()
    {
        var owned = await fixture.NewListAsync("List");
        var admin = await owned.Tenant.MemberKeyAsync("ada", Groundwork.Access.TenantRole.Admin);
        using (ClusterFixture.As(owned.OwnerKey))
        {
            await owned.List.AddItemAsync(new NewItem("by owner"), options: new MutationOptions(OperationId: "op-mine"));
        }

        using (ClusterFixture.As(admin))
        {
            await Assert.ThrowsAsync<OperationConflictException>(
                () => owned.List.AddItemAsync(new NewItem("by admin"), options: new MutationOptions(OperationId: "op-mine")));
        }
    }
}
