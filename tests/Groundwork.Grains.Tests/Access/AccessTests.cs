using System.Diagnostics.Metrics;
using System.Reflection;
using Groundwork.Access;
using Groundwork.Client;
using Groundwork.Grains.Access;
using Groundwork.Lists;
using Groundwork.Tenants;
using Groundwork.Testing;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Core.Internal;
using Xunit;

namespace Groundwork.Grains.Tests.Access;

[Collection(ClusterCollection.Name)]
public sealed class AccessTests(ClusterFixture fixture)
{
    private IClusterClient Client => fixture.Client;

    private async Task<(TestTenant Tenant, string Key)> NewListAsync()
    {
        var owned = await fixture.NewListAsync("Private");
        return (owned.Tenant, owned.Key);
    }

    private static async Task<AccessDeniedException> DeniedAsync(string apiKey, Func<Task> call)
    {
        using (ClusterFixture.As(apiKey))
        {
            return await Assert.ThrowsAsync<AccessDeniedException>(call);
        }
    }

    [Fact]
    public async Task A_caller_of_tenant_A_reaching_tenant_B_is_refused()
    {
        var (_, keyOfB) = await NewListAsync();
        var tenantA = await fixture.NewTenantAsync();
        var denied = await DeniedAsync(tenantA.OwnerKey, () => Client.GetList(keyOfB).GetAsync());
        Assert.Equal(AccessDenialReason.WrongTenant, denied.Reason);
        denied = await DeniedAsync(tenantA.OwnerKey, () => Client.GetList(keyOfB).AddItemAsync(new NewItem("intruder")));
        Assert.Equal(AccessDenialReason.WrongTenant, denied.Reason);
    }

    [Fact]
    public async Task A_call_without_a_key_is_refused()
    {
        var (_, key) = await NewListAsync();
        var denied = await Assert.ThrowsAsync<AccessDeniedException>(() => Client.GetList(key).GetAsync());
        Assert.Equal(AccessDenialReason.MissingCredential, denied.Reason);
    }

    [Fact]
    public async Task A_malformed_or_forged_key_is_refused()
    {
        var (tenant, key) = await NewListAsync();
        Assert.Equal(AccessDenialReason.MalformedCredential, (await DeniedAsync("let-me-in", () => Client.GetList(key).GetAsync())).Reason);
        var forged = tenant.OwnerKey[..^4] + "0000";
        Assert.Equal(AccessDenialReason.UnknownCredential, (await DeniedAsync(forged, () => Client.GetList(key).GetAsync())).Reason);
    }

    [Fact]
    public async Task Orleans_extensions_on_a_resource_need_admin_rights()
    {
        var (tenant, key) = await NewListAsync();
        var viewer = await tenant.MemberKeyAsync("vic", TenantRole.Viewer);
        var management = Client.GetList(key).AsReference<IGrainManagementExtension>();
        Assert.Equal(AccessDenialReason.MissingCredential, (await Assert.ThrowsAsync<AccessDeniedException>(async () => await management.DeactivateOnIdle())).Reason);
        Assert.Equal(AccessDenialReason.NotOnAccessList, (await DeniedAsync(viewer, async () => await management.DeactivateOnIdle())).Reason);
        using (ClusterFixture.As(tenant.OwnerKey))
        {
            await management.DeactivateOnIdle();
        }
    }

    [Fact]
    public async Task Orleans_system_grains_answer_only_the_operator()
    {
        var (tenant, _) = await NewListAsync();
        var management = Client.GetGrain<IManagementGrain>(0);
        var listType = GrainType.Create("list");
        Assert.Equal(AccessDenialReason.OperatorOnly, (await Assert.ThrowsAsync<AccessDeniedException>(async () => await management.GetActiveGrains(listType))).Reason);
        Assert.Equal(AccessDenialReason.OperatorOnly, (await DeniedAsync(tenant.OwnerKey, async () => await management.GetActiveGrains(listType))).Reason);
        using (ClusterFixture.As(fixture.OperatorKey))
        {
            Assert.NotEmpty(await management.GetActiveGrains(listType));
        }
    }

    [Fact]
    public async Task A_keyless_call_made_while_serving_an_outside_request_does_not_act_as_the_silo()
    {
        var siloGrains = fixture.Cluster.Silos[0].ServiceProvider.GetRequiredService<IGrainFactory>();
        var management = siloGrains.GetGrain<IManagementGrain>(0);

        // Silo code with no key (a hosted service, a timer) is the silo itself.
        Assert.NotEmpty(await Task.Run(() => management.GetHosts()));

        // The same call from a flow the web host marked as an outside request (an anonymous HTTP request) is not.
        var denied = await Task.Run(async () =>
        {
            CallOrigin.MarkExternal();
            return await Assert.ThrowsAsync<AccessDeniedException>(() => management.GetHosts());
        });
        Assert.Equal(AccessDenialReason.OperatorOnly, denied.Reason);
    }

    [Fact]
    public async Task A_malformed_key_that_reaches_the_silo_is_refused_there()
    {
        var tenant = await fixture.NewTenantAsync();
        RequestContext.Set(CallHeaders.ApiKey, tenant.OwnerKey);
        try
        {
            // The silo's own grain factory has no client-side check: the silo filter must catch it.
            var siloGrains = fixture.Cluster.Silos[0].ServiceProvider.GetRequiredService<IGrainFactory>();
            var raw = siloGrains.GetGrain<IListGrain>("not a key");
            var error = await Assert.ThrowsAsync<InvalidResourceKeyException>(() => raw.GetAsync());
            Assert.Equal("not a key", error.Key);
        }
        finally
        {
            RequestContext.Clear();
        }
    }

    [Fact]
    public async Task A_watch_is_refused_to_a_caller_who_may_not_read()
    {
        var (tenant, key) = await NewListAsync();
        var member = await tenant.MemberKeyAsync("mo", TenantRole.Member);
        using (ClusterFixture.As(tenant.OwnerKey))
        {
            await Client.GetList(key).SetAccessAsync([], [], tenantReadable: false);
        }

        using (ClusterFixture.As(member))
        {
            await using var feed = Client.GetList(key).WatchAsync(0).GetAsyncEnumerator();
            var denied = await Assert.ThrowsAsync<AccessDeniedException>(async () => await feed.MoveNextAsync());
            Assert.Equal(AccessDenialReason.NotOnAccessList, denied.Reason);
        }
    }

    [Fact]
    public async Task An_open_feed_ends_with_access_denied_when_the_watcher_loses_read_access()
    {
        var (tenant, key) = await NewListAsync();
        var viewer = await tenant.MemberKeyAsync("vic", TenantRole.Viewer);
        using (ClusterFixture.As(viewer))
        {
            await using var feed = Client.WatchListAsync(key, 0).GetAsyncEnumerator();
            Assert.Equal(ListChangeKind.ListCreated, (await feed.TakeAsync(1))[0].Kind);
            using (ClusterFixture.As(tenant.OwnerKey))
            {
                await Client.GetList(key).SetAccessAsync([], [], tenantReadable: false);
                await Client.GetList(key).AddItemAsync(new NewItem("not for viewers"));
            }

            var denied = await Assert.ThrowsAsync<AccessDeniedException>(() => feed.TakeAsync(2));
            Assert.Equal(AccessDenialReason.NotOnAccessList, denied.Reason);
        }
    }

    [Fact]
    public async Task An_open_feed_ends_once_its_key_is_revoked()
    {
        var (tenant, key) = await NewListAsync();
        IssuedApiKey issued;
        using (ClusterFixture.As(tenant.OwnerKey))
        {
            await Client.GetTenant(tenant.Id).SetMemberAsync("rita", TenantRole.Viewer);
            issued = await Client.GetTenant(tenant.Id).IssueKeyAsync("rita", KeyScope.Standard);
        }

        using (ClusterFixture.As(issued.Key))
        {
            await using var feed = Client.GetList(key).WatchAsync(0).GetAsyncEnumerator();
            await feed.TakeAsync(1);
            using (ClusterFixture.As(tenant.OwnerKey))
            {
                await Client.GetTenant(tenant.Id).RevokeKeyAsync(issued.KeyId);
            }

            // The fixture's credential cache lasts 200 ms: an idle feed re-verifies its key at that pace.
            var denied = await Assert.ThrowsAsync<AccessDeniedException>(() => feed.TakeAsync(1, TimeSpan.FromSeconds(10)));
            Assert.Equal(AccessDenialReason.RevokedCredential, denied.Reason);
        }
    }

    [Fact]
    public async Task A_viewer_reads_but_cannot_write_or_create()
    {
        var (tenant, key) = await NewListAsync();
        var viewer = await tenant.MemberKeyAsync("vic", TenantRole.Viewer);
        using (ClusterFixture.As(viewer))
        {
            Assert.Equal("Private", (await Client.GetList(key).GetAsync()).Title);
        }

        Assert.Equal(AccessDenialReason.NotOnAccessList, (await DeniedAsync(viewer, () => Client.GetList(key).AddItemAsync(new NewItem("x")))).Reason);
        Assert.Equal(AccessDenialReason.InsufficientRole, (await DeniedAsync(viewer, () => Client.GetList(tenant.ListKey()).CreateAsync("new"))).Reason);
    }

    [Fact]
    public async Task A_member_writes_only_where_an_editor_and_the_owner_decides_who_is()
    {
        var (tenant, key) = await NewListAsync();
        var member = await tenant.MemberKeyAsync("mia", TenantRole.Member);
        Assert.Equal(AccessDenialReason.NotOnAccessList, (await DeniedAsync(member, () => Client.GetList(key).RenameAsync("x"))).Reason);
        Assert.Equal(AccessDenialReason.NotOnAccessList, (await DeniedAsync(member, () => Client.GetList(key).SetAccessAsync(["mia"], [], true))).Reason);

        using (ClusterFixture.As(tenant.OwnerKey))
        {
            await Client.GetList(key).SetAccessAsync(["mia"], [], tenantReadable: true);
        }

        using (ClusterFixture.As(member))
        {
            await Client.GetList(key).AddItemAsync(new NewItem("from mia"));
            var change = (await Client.GetList(key).GetAsync()).Items.Single();
            Assert.Equal("from mia", change.Title);
        }
    }

    [Fact]
    public async Task A_list_that_is_not_tenant_readable_is_hidden_from_members_not_on_its_access_list()
    {
        var (tenant, key) = await NewListAsync();
        var member = await tenant.MemberKeyAsync("mo", TenantRole.Member);
        var viewer = await tenant.MemberKeyAsync("val", TenantRole.Viewer);
        using (ClusterFixture.As(tenant.OwnerKey))
        {
            await Client.GetList(key).SetAccessAsync([], ["val"], tenantReadable: false);
        }

        Assert.Equal(AccessDenialReason.NotOnAccessList, (await DeniedAsync(member, () => Client.GetList(key).GetAsync())).Reason);
        using (ClusterFixture.As(viewer))
        {
            Assert.Equal("Private", (await Client.GetList(key).GetAsync()).Title);
        }
    }

    [Fact]
    public async Task A_tenant_admin_may_do_everything_on_the_tenants_lists()
    {
        var (tenant, key) = await NewListAsync();
        var admin = await tenant.MemberKeyAsync("ada", TenantRole.Admin);
        using (ClusterFixture.As(admin))
        {
            await Client.GetList(key).RenameAsync("Admin was here");
            await Client.GetList(key).SetAccessAsync(["someone"], [], true);
            Assert.Equal("Admin was here", (await Client.GetList(key).GetAsync()).Title);
        }
    }

    [Fact]
    public async Task A_revoked_key_stops_working()
    {
        var (tenant, key) = await NewListAsync();
        string keyId;
        string memberKey;
        using (ClusterFixture.As(tenant.OwnerKey))
        {
            await Client.GetTenant(tenant.Id).SetMemberAsync("rex", TenantRole.Admin);
            var issued = await Client.GetTenant(tenant.Id).IssueKeyAsync("rex", KeyScope.Standard);
            (keyId, memberKey) = (issued.KeyId, issued.Key);
        }

        using (ClusterFixture.As(memberKey))
        {
            await Client.GetList(key).GetAsync();
        }

        using (ClusterFixture.As(tenant.OwnerKey))
        {
            await Client.GetTenant(tenant.Id).RevokeKeyAsync(keyId);
        }

        // The fixture's credential cache lasts 200 ms: wait for that, bounded, never longer.
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            using (ClusterFixture.As(memberKey))
            {
                try
                {
                    await Client.GetList(key).GetAsync();
                    await Task.Delay(50, deadline.Token);
                }
                catch (AccessDeniedException denied)
                {
                    Assert.Equal(AccessDenialReason.RevokedCredential, denied.Reason);
                    break;
                }
            }
        }
    }

    [Fact]
    public async Task An_edge_key_acts_for_an_end_user_with_that_users_role()
    {
        var (tenant, key) = await NewListAsync();
        // A gateway acting for every user of a product holds an admin-role edge key: an edge key never does more
        // than its holder may, so a member's would reach only what that member reaches.
        var edge = await tenant.MemberKeyAsync("gateway", TenantRole.Admin, KeyScope.Edge);
        using (ClusterFixture.As(tenant.OwnerKey))
        {
            await Client.GetTenant(tenant.Id).SetMemberAsync("ursula", TenantRole.Member);
            await Client.GetList(key).SetAccessAsync(["ursula"], [], true);
        }

        using (ClusterFixture.As(edge))
        using (GroundworkCredentials.ActFor("ursula"))
        {
            await Client.GetList(key).AddItemAsync(new NewItem("by ursula"));
        }

        using (ClusterFixture.As(tenant.OwnerKey))
        {
            var snapshot = await Client.GetList(key).GetAsync();
            Assert.Equal("by ursula", snapshot.Items.Single().Title);
        }

        using (ClusterFixture.As(edge))
        using (GroundworkCredentials.ActFor("stranger"))
        {
            var denied = await Assert.ThrowsAsync<AccessDeniedException>(() => Client.GetList(key).AddItemAsync(new NewItem("x")));
            Assert.Equal(AccessDenialReason.NotOnAccessList, denied.Reason);
        }
    }

    [Fact]
    public async Task A_standard_key_may_not_act_for_someone_else()
    {
        var (tenant, key) = await NewListAsync();
        using (ClusterFixture.As(tenant.OwnerKey))
        using (GroundworkCredentials.ActFor("someone"))
        {
            var denied = await Assert.ThrowsAsync<AccessDeniedException>(() => Client.GetList(key).GetAsync());
            Assert.Equal(AccessDenialReason.OnBehalfOfNotAllowed, denied.Reason);
        }
    }

    [Fact]
    public async Task Only_the_operator_creates_tenants()
    {
        var tenant = await fixture.NewTenantAsync();
        var denied = await DeniedAsync(tenant.OwnerKey, () => Client.GetTenant("t-" + Guid.NewGuid().ToString("n")[..8]).CreateAsync("x", "me"));
        Assert.Equal(AccessDenialReason.OperatorOnly, denied.Reason);
    }

    [Fact]
    public async Task A_refusal_is_counted_by_reason()
    {
        var (_, key) = await NewListAsync();
        var counted = 0L;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == GroundworkTelemetry.MeterName && instrument.Name == "groundwork.access.refusals")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag is { Key: "reason", Value: "MissingCredential" })
                {
                    Interlocked.Add(ref counted, value);
                }
            }
        });
        listener.Start();
        await Assert.ThrowsAsync<AccessDeniedException>(() => Client.GetList(key).GetAsync());
        Assert.True(Interlocked.Read(ref counted) >= 1);
    }

    [Fact]
    public void A_malformed_resource_key_is_refused_before_anything_is_sent()
    {
        var error = Assert.Throws<InvalidResourceKeyException>(() => Client.GetList("Acme/list/x"));
        Assert.Contains("tenant id", error.Reason, StringComparison.Ordinal);
        Assert.Throws<InvalidResourceKeyException>(() => Client.GetList("acme/sheet/x"));
        Assert.Throws<InvalidResourceKeyException>(() => Client.GetTenant("no spaces"));
    }

    [Fact]
    public async Task A_raw_grain_reference_with_a_malformed_key_is_refused_by_the_client_filter()
    {
        var tenant = await fixture.NewTenantAsync();
        using (ClusterFixture.As(tenant.OwnerKey))
        {
            var raw = Client.GetGrain<IListGrain>("not a key");
            await Assert.ThrowsAsync<InvalidResourceKeyException>(() => raw.GetAsync());
        }
    }

    [Fact]
    public void Every_grain_method_of_the_contract_declares_its_access_requirement()
    {
        var undeclared = typeof(IListGrain).Assembly.GetTypes()
            .Where(t => t.IsInterface && typeof(IAddressable).IsAssignableFrom(t))
            .SelectMany(t => t.GetMethods())
            .Where(m => m.GetCustomAttribute<RequiresAttribute>() is null)
            .Select(m => $"{m.DeclaringType!.Name}.{m.Name}")
            .ToList();
        Assert.Empty(undeclared);
    }
}
