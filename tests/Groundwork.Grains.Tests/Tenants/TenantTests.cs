using Groundwork.Access;
using Groundwork.Lists;
using Groundwork.Tenants;
using Groundwork.Testing;
using Xunit;

namespace Groundwork.Grains.Tests.Tenants;

[Collection(ClusterCollection.Name)]
public sealed class TenantTests(ClusterFixture fixture)
{
    private IClusterClient Client => fixture.Client;

    [Fact]
    public async Task Creating_a_tenant_makes_the_owner_a_member_and_returns_a_working_key_once()
    {
        var tenant = await fixture.NewTenantAsync("olga");
        using (ClusterFixture.As(tenant.OwnerKey))
        {
            var info = await Client.GetTenant(tenant.Id).GetAsync();
            Assert.Equal(TenantRole.Owner, info.Members["olga"]);
            var keys = await Client.GetTenant(tenant.Id).GetKeysAsync();
            var listed = Assert.Single(keys);
            Assert.Equal("olga", listed.Principal);
            Assert.StartsWith($"gwk_{tenant.Id}_{listed.KeyId}_", tenant.OwnerKey, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Creating_an_existing_tenant_is_refused()
    {
        var tenant = await fixture.NewTenantAsync();
        using (ClusterFixture.As(fixture.OperatorKey))
        {
            await Assert.ThrowsAsync<AlreadyExistsException>(() => Client.GetTenant(tenant.Id).CreateAsync("again", "someone"));
        }
    }

    [Fact]
    public async Task The_secret_is_not_stored_in_the_tenant_state()
    {
        var tenant = await fixture.NewTenantAsync();
        var secret = tenant.OwnerKey.Split('_')[^1];
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={fixture.DatabasePath};Mode=ReadOnly");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT payload FROM grain_state WHERE state_name = 'tenant' AND grain_id LIKE $g";
        command.Parameters.AddWithValue("$g", $"%{tenant.Id}");
        var payload = System.Text.Encoding.UTF8.GetString((byte[])(await command.ExecuteScalarAsync())!);
        Assert.Contains("SecretHash", payload, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, payload, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Removing_a_member_revokes_its_keys()
    {
        var tenant = await fixture.NewTenantAsync();
        await tenant.MemberKeyAsync("max", TenantRole.Member);
        using (ClusterFixture.As(tenant.OwnerKey))
        {
            await Client.GetTenant(tenant.Id).RemoveMemberAsync("max");
            var keys = await Client.GetTenant(tenant.Id).GetKeysAsync();
            Assert.NotNull(keys.Single(k => k.Principal == "max").RevokedAt);
        }
    }

    [Fact]
    public async Task The_last_owner_cannot_be_removed_or_demoted()
    {
        var tenant = await fixture.NewTenantAsync("solo");
        using (ClusterFixture.As(tenant.OwnerKey))
        {
            await Assert.ThrowsAsync<InvalidRequestException>(() => Client.GetTenant(tenant.Id).RemoveMemberAsync("solo"));
            await Assert.ThrowsAsync<InvalidRequestException>(() => Client.GetTenant(tenant.Id).SetMemberAsync("solo", TenantRole.Admin));
        }
    }

    [Fact]
    public async Task An_admin_cannot_make_owners_or_issue_an_owners_key()
    {
        var tenant = await fixture.NewTenantAsync("boss");
        var admin = await tenant.MemberKeyAsync("ada", TenantRole.Admin);
        using (ClusterFixture.As(admin))
        {
            var denied = await Assert.ThrowsAsync<AccessDeniedException>(() => Client.GetTenant(tenant.Id).SetMemberAsync("ada", TenantRole.Owner));
            Assert.Equal(AccessDenialReason.InsufficientRole, denied.Reason);
            await Assert.ThrowsAsync<AccessDeniedException>(() => Client.GetTenant(tenant.Id).IssueKeyAsync("boss", KeyScope.Standard));
            await Client.GetTenant(tenant.Id).SetMemberAsync("newbie", TenantRole.Member);
        }
    }

    [Fact]
    public async Task A_member_cannot_administer_the_tenant()
    {
        var tenant = await fixture.NewTenantAsync();
        var member = await tenant.MemberKeyAsync("mel", TenantRole.Member);
        using (ClusterFixture.As(member))
        {
            var denied = await Assert.ThrowsAsync<AccessDeniedException>(() => Client.GetTenant(tenant.Id).IssueKeyAsync("mel", KeyScope.Edge));
            Assert.Equal(AccessDenialReason.InsufficientRole, denied.Reason);
            Assert.Contains("mel", (await Client.GetTenant(tenant.Id).GetAsync()).Members.Keys);
        }
    }

    [Fact]
    public async Task Keys_are_issued_only_to_members_and_bad_principals_are_refused()
    {
        var tenant = await fixture.NewTenantAsync();
        using (ClusterFixture.As(tenant.OwnerKey))
        {
            await Assert.ThrowsAsync<NotFoundException>(() => Client.GetTenant(tenant.Id).IssueKeyAsync("nobody", KeyScope.Standard));
            await Assert.ThrowsAsync<InvalidRequestException>(() => Client.GetTenant(tenant.Id).SetMemberAsync("has space", TenantRole.Member));
        }
    }

    [Fact]
    public async Task The_directory_lists_only_its_own_tenants_resources()
    {
        var a = await fixture.NewTenantAsync();
        var b = await fixture.NewTenantAsync();
        using (ClusterFixture.As(a.OwnerKey))
        {
            await Client.GetList(a.ListKey("one")).CreateAsync("One");
            await Client.GetList(a.ListKey("two")).CreateAsync("Two");
        }

        var entries = await fixture.WaitForDirectoryAsync(a.Id, a.OwnerKey, e => e.Count == 2);
        Assert.Equal([a.ListKey("one"), a.ListKey("two")], entries.Select(e => e.Key));
        using (ClusterFixture.As(a.OwnerKey))
        {
            await Assert.ThrowsAsync<AccessDeniedException>(() => Client.GetTenantDirectory(b.Id).ListAsync());
        }
    }

    [Fact]
    public async Task The_directory_shows_each_caller_only_the_lists_it_may_read()
    {
        var tenant = await fixture.NewTenantAsync();
        var viewer = await tenant.MemberKeyAsync("vera", TenantRole.Viewer);
        using (ClusterFixture.As(tenant.OwnerKey))
        {
            await Client.GetList(tenant.ListKey("open")).CreateAsync("Open");
            await Client.GetList(tenant.ListKey("secret")).CreateAsync("Secret");
            await Client.GetList(tenant.ListKey("secret")).SetAccessAsync([], [], tenantReadable: false);
        }

        await fixture.WaitForDirectoryAsync(tenant.Id, tenant.OwnerKey, e => e.Count == 2);
        // The secret list was public for a moment before its access changed: wait for the directory to catch up
        // (bounded); if it never hides the list, this times out and fails.
        var seen = await fixture.WaitForDirectoryAsync(tenant.Id, viewer, e => e.Count == 1);
        Assert.Equal([tenant.ListKey("open")], seen.Select(e => e.Key));
    }

    [Fact]
    public async Task A_member_cannot_put_a_resource_that_does_not_exist_into_the_directory()
    {
        var tenant = await fixture.NewTenantAsync();
        var member = await tenant.MemberKeyAsync("mallory", TenantRole.Member);
        using (ClusterFixture.As(member))
        {
            await Assert.ThrowsAsync<NotFoundException>(() => Client.GetTenantDirectory(tenant.Id).RegisterAsync(tenant.ListKey("forged")));
            Assert.Empty(await Client.GetTenantDirectory(tenant.Id).ListAsync());
        }
    }

    [Fact]
    public async Task An_edge_key_acting_for_an_owner_gets_no_more_than_its_holders_role()
    {
        var tenant = await fixture.NewTenantAsync("boss");
        var edge = await tenant.MemberKeyAsync("gateway", TenantRole.Member, KeyScope.Edge);
        using (ClusterFixture.As(edge))
        using (Groundwork.Client.GroundworkCredentials.ActFor("boss"))
        {
            var denied = await Assert.ThrowsAsync<AccessDeniedException>(() => Client.GetTenant(tenant.Id).SetMemberAsync("gateway", TenantRole.Owner));
            Assert.Equal(AccessDenialReason.InsufficientRole, denied.Reason);
            await Client.GetList(tenant.ListKey("by-proxy")).CreateAsync("Created as boss, with member rights");
        }
    }

    [Fact]
    public async Task Only_owners_issue_edge_keys()
    {
        var tenant = await fixture.NewTenantAsync();
        var admin = await tenant.MemberKeyAsync("ada", TenantRole.Admin);
        using (ClusterFixture.As(admin))
        {
            var denied = await Assert.ThrowsAsync<AccessDeniedException>(() => Client.GetTenant(tenant.Id).IssueKeyAsync("ada", KeyScope.Edge));
            Assert.Equal(AccessDenialReason.InsufficientRole, denied.Reason);
        }
    }

    [Fact]
    public async Task An_admin_cannot_revoke_an_owners_key_or_mint_one_for_another_admin()
    {
        var tenant = await fixture.NewTenantAsync("boss");
        var admin = await tenant.MemberKeyAsync("ada", TenantRole.Admin);
        await tenant.MemberKeyAsync("abe", TenantRole.Admin);
        string ownerKeyId;
        using (ClusterFixture.As(tenant.OwnerKey))
        {
            ownerKeyId = (await Client.GetTenant(tenant.Id).GetKeysAsync()).Single(k => k.Principal == "boss").KeyId;
        }

        using (ClusterFixture.As(admin))
        {
            await Assert.ThrowsAsync<AccessDeniedException>(() => Client.GetTenant(tenant.Id).RevokeKeyAsync(ownerKeyId));
            await Assert.ThrowsAsync<AccessDeniedException>(() => Client.GetTenant(tenant.Id).IssueKeyAsync("abe", KeyScope.Standard));
            await Client.GetTenant(tenant.Id).IssueKeyAsync("ada", KeyScope.Standard);
        }

        using (ClusterFixture.As(tenant.OwnerKey))
        {
            Assert.Null((await Client.GetTenant(tenant.Id).GetKeysAsync()).Single(k => k.KeyId == ownerKeyId).RevokedAt);
        }
    }

    private static int Setting(string key) =>
        int.Parse(ClusterFixture.Settings[key]!, System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void The_documented_tenant_limits_hold_by_default()
    {
        var defaults = new Groundwork.Grains.Tenants.TenantOptions();
        Assert.Equal((100_000, 10_000, 100_000), (defaults.MaxMembers, defaults.MaxKeys, defaults.MaxDirectoryEntries));
    }

    [Fact]
    public async Task Issuing_past_the_key_limit_is_refused_naming_the_limit()
    {
        var tenant = await fixture.NewTenantAsync();
        var maxKeys = Setting("Groundwork:Tenants:MaxKeys");
        using (ClusterFixture.As(tenant.OwnerKey))
        {
            for (var i = 1; i < maxKeys; i++)
            {
                await Client.GetTenant(tenant.Id).IssueKeyAsync("owner", KeyScope.Standard);
            }

            var error = await Assert.ThrowsAsync<LimitExceededException>(() => Client.GetTenant(tenant.Id).IssueKeyAsync("owner", KeyScope.Standard));
            Assert.Equal(("Tenants:MaxKeys", (long)maxKeys), (error.Limit, error.Maximum));
        }
    }

    [Fact]
    public async Task Adding_past_the_member_limit_is_refused_naming_the_limit()
    {
        var tenant = await fixture.NewTenantAsync();
        var maxMembers = Setting("Groundwork:Tenants:MaxMembers");
        using (ClusterFixture.As(tenant.OwnerKey))
        {
            for (var i = 1; i < maxMembers; i++)
            {
                await Client.GetTenant(tenant.Id).SetMemberAsync($"m{i}", TenantRole.Viewer);
            }

            var error = await Assert.ThrowsAsync<LimitExceededException>(() => Client.GetTenant(tenant.Id).SetMemberAsync("one-more", TenantRole.Viewer));
            Assert.Equal("Tenants:MaxMembers", error.Limit);
            await Client.GetTenant(tenant.Id).SetMemberAsync("m1", TenantRole.Member);
        }
    }

    [Fact]
    public async Task Creating_past_the_directory_limit_is_refused_naming_the_limit_and_creates_nothing()
    {
        var tenant = await fixture.NewTenantAsync();
        var maxEntries = Setting("Groundwork:Tenants:MaxDirectoryEntries");
        using (ClusterFixture.As(tenant.OwnerKey))
        {
            for (var i = 0; i < maxEntries; i++)
            {
                await Client.GetList(tenant.ListKey($"l{i}")).CreateAsync($"List {i}");
            }

            var error = await Assert.ThrowsAsync<LimitExceededException>(() => Client.GetList(tenant.ListKey($"l{maxEntries}")).CreateAsync("One too many"));
            Assert.Equal("Tenants:MaxDirectoryEntries", error.Limit);
            await Assert.ThrowsAsync<NotFoundException>(() => Client.GetList(tenant.ListKey($"l{maxEntries}")).GetAsync());
        }

        await fixture.WaitForDirectoryAsync(tenant.Id, tenant.OwnerKey, e => e.Count == maxEntries);
    }

    [Fact]
    public async Task An_admins_edge_key_acting_for_an_owner_cannot_mint_or_revoke_that_owners_keys()
    {
        var tenant = await fixture.NewTenantAsync("boss");
        var edge = await tenant.MemberKeyAsync("ada", TenantRole.Admin, KeyScope.Edge);
        using (ClusterFixture.As(edge))
        using (Groundwork.Client.GroundworkCredentials.ActFor("boss"))
        {
            Assert.Equal(AccessDenialReason.InsufficientRole,
                (await Assert.ThrowsAsync<AccessDeniedException>(() => Client.GetTenant(tenant.Id).IssueKeyAsync("boss", KeyScope.Standard))).Reason);
            var ownerKeyId = (await Client.GetTenant(tenant.Id).GetKeysAsync()).First(k => k.Principal == "boss").KeyId;
            await Assert.ThrowsAsync<AccessDeniedException>(() => Client.GetTenant(tenant.Id).RevokeKeyAsync(ownerKeyId));
        }
    }

    [Fact]
    public async Task An_admin_cannot_take_over_a_peer_admin()
    {
        var tenant = await fixture.NewTenantAsync("boss");
        var admin = await tenant.MemberKeyAsync("ada", TenantRole.Admin);
        await tenant.MemberKeyAsync("abe", TenantRole.Admin);
        using (ClusterFixture.As(admin))
        {
            var tenantGrain = Client.GetTenant(tenant.Id);
            await Assert.ThrowsAsync<AccessDeniedException>(() => tenantGrain.SetMemberAsync("abe", TenantRole.Member));
            await Assert.ThrowsAsync<AccessDeniedException>(() => tenantGrain.RemoveMemberAsync("abe"));
            await Assert.ThrowsAsync<AccessDeniedException>(() => tenantGrain.SetMemberAsync("newcomer", TenantRole.Admin));
            await tenantGrain.SetMemberAsync("newcomer", TenantRole.Member);
            Assert.Equal(TenantRole.Admin, (await tenantGrain.GetAsync()).Members["abe"]);
        }
    }
}
