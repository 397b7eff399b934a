using Groundwork.Access;
using Groundwork.Lists;
using Groundwork.Testing;
using Groundwork.Tenants;
using Xunit;

namespace Groundwork.Silo.Tests.Attacks;

/// <summary>
/// The findings of the attack on the embedded silo (issue 9), each tried again as the attacker did: a raw Orleans
/// client (or raw bytes on the gateway port) against the real silo process, with no key or with a tenant's key.
/// </summary>
[Collection(AttackCollection.Name)]
public sealed class AttackTests(AttackFixture fixture)
{
    private RawClient Raw => fixture.Raw;

    private SiloAddress Silo => Raw.Silos.Single(s => s.Endpoint.Port != 0); // the manifest also names the client itself

    [Theory]
    [InlineData("GetActiveGrains")]
    [InlineData("ForceGarbageCollection")]
    [InlineData("ForceActivationCollection")]
    public async Task Silo_control_refuses_a_client_without_the_operator_key(string method)
    {
        object?[] arguments = method switch
        {
            "GetActiveGrains" => [GrainType.Create("list")],
            "ForceActivationCollection" => [TimeSpan.Zero],
            _ => [],
        };
        foreach (var key in new[] { null, fixture.AlphaOwnerKey })
        {
            var refused = await Assert.ThrowsAsync<AccessDeniedException>(() => RawClient.WithKeyAsync(key,
                () => Raw.CallSystemTargetAsync("Orleans.ISiloControl", "silo-control", Silo, method, arguments)));
            Assert.Equal(AccessDenialReason.OperatorOnly, refused.Reason);
        }

        // The operator may manage the silo directly, as it may through the management grain.
        var active = await RawClient.WithKeyAsync(fixture.Operator,
            () => Raw.CallSystemTargetAsync("Orleans.ISiloControl", "silo-control", Silo, "GetActiveGrains", GrainType.Create("list")));
        Assert.NotNull(active);
    }

    [Fact]
    public async Task Membership_gossip_from_a_client_is_refused_and_the_silo_stays_up()
    {
        // Gossip (a snapshot, here an empty one, that would say this silo is dead) and every other call to the
        // membership service are refused before they run, whatever they carry.
        foreach (var (method, arguments) in new (string, object?[])[] { ("MembershipChangeNotification", []), ("Ping", [1]) })
        {
            var refused = await Assert.ThrowsAsync<AccessDeniedException>(() => RawClient.WithKeyAsync(null,
                () => Raw.CallSystemTargetAsync("Orleans.Runtime.IMembershipService", "clustering", Silo, method, arguments)));
            Assert.Equal(AccessDenialReason.OperatorOnly, refused.Reason);
        }

        await fixture.AssertSiloAnswersAsync();
    }

    [Fact]
    public async Task The_embedded_membership_table_refuses_clients()
    {
        // The development table lives on the primary silo, addressed with generation 0.
        var table = Raw.Client.GetGrain<IMembershipTableSystemTarget>(
            SystemTargetGrainId.Create(SystemTargetGrainId.CreateGrainType("clustering.dev"), SiloAddress.New(Silo.Endpoint, 0)).GrainId);
        foreach (var key in new[] { null, fixture.AlphaOwnerKey, fixture.Operator })
        {
            await Assert.ThrowsAsync<AccessDeniedException>(() => RawClient.WithKeyAsync(key, () => table.ReadAllAsync()));
            await Assert.ThrowsAsync<AccessDeniedException>(() => RawClient.WithKeyAsync(key,
                () => RawClient.CallExtensionAsync(table, "Orleans.IMembershipTable", "UpdateRow")));
        }

        await fixture.AssertSiloAnswersAsync();
    }

    [Theory]
    [InlineData(200_000)]
    [InlineData(20_000)]
    public async Task A_request_context_value_nested_deep_is_refused_unread_and_the_silo_stays_up(int depth)
    {
        await using var frames = new RawFrames(Raw.Services);
        var nested = frames.NestedValue(depth);
        await frames.ConnectAsync(fixture.Silo.GatewayPort);
        await frames.SendAsync(GrainId.Create("list", $"{fixture.Alpha}/list/shared"), nested, frames.StringBody(10));
        var error = await frames.ReadErrorAsync(TimeSpan.FromSeconds(20));
        if (nested.Length > 1024 * 1024)
        {
            Assert.Null(error); // a header past 1 MiB is not even read: the connection ends
        }
        else
        {
            Assert.Equal("Messages:MaxRequestContextDepth", Assert.IsType<LimitExceededException>(error).Limit);
        }

        await fixture.AssertSiloAnswersAsync();
    }

    [Fact]
    public async Task A_frame_just_under_the_limits_reaches_orleans_whole()
    {
        // Not a call at all (the body is a bare string), so Orleans refuses it, but only after the guard let all of
        // it through: an answer that is not the guard's limit shows the frame passed whole.
        await using var frames = new RawFrames(Raw.Services);
        await frames.ConnectAsync(fixture.Silo.GatewayPort);
        await frames.SendAsync(GrainId.Create("list", $"{fixture.Alpha}/list/shared"), null, frames.StringBody(1_000_000));
        var error = await frames.ReadErrorAsync(TimeSpan.FromSeconds(20));
        Assert.NotNull(error);
        Assert.IsNotType<LimitExceededException>(error);
        await fixture.AssertSiloAnswersAsync();
    }

    [Fact]
    public async Task A_header_over_the_limit_is_answered_with_the_limit_at_once()
    {
        var refused = await Assert.ThrowsAsync<LimitExceededException>(() => RawClient.WithKeyAsync(new string('k', 64 * 1024),
            () => Raw.Client.GetGrain<IListGrain>($"{fixture.Alpha}/list/shared").GetAsync()));
        Assert.Equal("Messages:MaxHeaderBytes", refused.Limit);
        Assert.True(refused.Message.Length < 300, refused.Message);
    }

    [Fact]
    public async Task A_body_nested_deep_is_refused_with_a_typed_error_at_once()
    {
        await using var frames = new RawFrames(Raw.Services);
        var nested = frames.NestedValue(200_000);
        await frames.ConnectAsync(fixture.Silo.GatewayPort);
        await frames.SendAsync(GrainId.Create("list", $"{fixture.Alpha}/list/shared"), null, nested);
        var error = Assert.IsType<LimitExceededException>(await frames.ReadErrorAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("Messages:MaxNestingDepth", error.Limit);
        await fixture.AssertSiloAnswersAsync();
    }

    [Fact]
    public async Task Tenant_ids_and_names_with_a_trailing_newline_are_refused()
    {
        var list = await Assert.ThrowsAsync<InvalidResourceKeyException>(() => RawClient.WithKeyAsync(fixture.AlphaOwnerKey,
            () => Raw.Client.GetGrain<IListGrain>($"{fixture.Alpha}/list/shared\n").CreateAsync("Look-alike")));
        Assert.Contains("name", list.Reason, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidResourceKeyException>(() => RawClient.WithKeyAsync(fixture.Operator,
            () => Raw.Client.GetGrain<ITenantGrain>($"{fixture.Alpha}\n").CreateAsync("Look-alike", "eve")));
    }

    [Fact]
    public async Task Orleans_extensions_and_foreign_interfaces_need_a_key_that_may_read()
    {
        var list = Raw.Client.GetGrain<IListGrain>($"{fixture.Beta}/list/shared");
        var feed = list.AsReference<IAsyncEnumerableGrainExtension>();
        var missing = await Assert.ThrowsAsync<AccessDeniedException>(() => RawClient.WithKeyAsync(null,
            () => feed.MoveNext<ListChange>(Guid.NewGuid(), default).AsTask()));
        Assert.Equal(AccessDenialReason.MissingCredential, missing.Reason);
        var otherTenant = await Assert.ThrowsAsync<AccessDeniedException>(() => RawClient.WithKeyAsync(fixture.AlphaOwnerKey,
            () => feed.DisposeAsync(Guid.NewGuid()).AsTask()));
        Assert.Equal(AccessDenialReason.WrongTenant, otherTenant.Reason);
        // Cancelling is one-way (no answer comes back): the refusal shows in the silo's refusal counter.
        var before = await fixture.RefusalsAsync("MissingCredential");
        await RawClient.WithKeyAsync(null,
            () => RawClient.CallExtensionAsync(list, "Orleans.Runtime.IGrainCallCancellationExtension", "CancelRequestAsync",
                GrainId.Create("sys.client", "someone")));
        await AttackFixture.WaitForAsync(async () => await fixture.RefusalsAsync("MissingCredential") > before, "the keyless cancellation is refused");

        // A runtime interface the grain does not implement fails before any filter (Orleans casts first): refused either way.
        Assert.NotNull(await Record.ExceptionAsync(() => RawClient.WithKeyAsync(fixture.BetaOwnerKey,
            () => list.AsReference<IRemindable>().ReceiveReminder("x", default))));
    }

    [Fact]
    public async Task Refused_calls_leave_no_activations_behind()
    {
        var tenantsBefore = await fixture.ActivationsAsync("TenantGrain");
        var listsBefore = await fixture.ActivationsAsync("ListGrain");
        var calls = Enumerable.Range(0, 2_000).Select(i => i % 2 == 0
            ? RawClient.WithKeyAsync($"gwk_nobody{i}_{new string('0', 12)}_{new string('0', 64)}",
                () => Raw.Client.GetGrain<IListGrain>($"nobody{i}/list/x").GetAsync())
            : RawClient.WithKeyAsync("not a key", () => Raw.Client.GetGrain<IListGrain>($"Bad Key {i}").GetAsync()));
        foreach (var call in calls.Chunk(100))
        {
            foreach (var result in await Task.WhenAll(call.Select(async c => await Record.ExceptionAsync(() => c))))
            {
                Assert.IsAssignableFrom<GroundworkException>(result);
            }
        }

        // Deactivation follows the refused call; wait for it rather than sleeping a fixed time.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        int tenants, lists;
        do
        {
            tenants = await fixture.ActivationsAsync("TenantGrain") - tenantsBefore;
            lists = await fixture.ActivationsAsync("ListGrain") - listsBefore;
            if (tenants <= 20 && lists <= 20)
            {
                break;
            }

            await Task.Delay(200);
        }
        while (DateTime.UtcNow < deadline);

        Assert.True(tenants <= 20 && lists <= 20, $"{tenants} tenant and {lists} list activations remain after 2,000 refused calls");
    }

    [Fact]
    public async Task A_connection_that_keeps_causing_refusals_is_held_back_and_others_are_not()
    {
        await using var flooder = await RawClient.ConnectAsync(fixture.Silo.GatewayPort);
        var heldBefore = await fixture.MetricAsync("groundwork_messages_held_total");
        // Past its burst, the connection is in debt: requests that arrive then wait for their turn. The budget refills
        // while the calls go out, so on a busy machine the burst plus a fixed number might never outrun it: send until
        // the silo holds one back, within a bound.
        var sent = 0;
        var held = heldBefore;
        while (held <= heldBefore && sent < AttackFixture.RefusalBurst + 20_000)
        {
            var chunk = Enumerable.Range(0, 200).Select(_ =>
                Record.ExceptionAsync(() => RawClient.WithKeyAsync("not a key", () => flooder.Client.GetGrain<IListGrain>($"{fixture.Alpha}/list/shared").GetAsync())));
            Assert.All(await Task.WhenAll(chunk), e => Assert.IsType<AccessDeniedException>(e));
            sent += 200;
            if (sent > AttackFixture.RefusalBurst)
            {
                held = await fixture.MetricAsync("groundwork_messages_held_total");
            }
        }

        Assert.True(held > heldBefore, $"the flooding connection was never held back after {sent} refused calls ({heldBefore} -> {held}; refusals {await fixture.MetricAsync("groundwork_access_refusals_total")}, refused messages {await fixture.MetricAsync("groundwork_messages_refused_total")})");

        // Another client's connection has no debt: its call goes straight through.
        await fixture.AssertSiloAnswersAsync();
    }

    [Fact]
    public async Task A_body_over_the_limit_is_refused_at_once_without_the_silo_holding_it()
    {
        var before = fixture.Silo.ResidentBytes();
        for (var i = 0; i < 4; i++)
        {
            var started = DateTime.UtcNow;
            var refused = await Assert.ThrowsAsync<LimitExceededException>(() => RawClient.WithKeyAsync(null,
                () => Raw.Client.GetGrain<IListGrain>($"{fixture.Alpha}/list/big").CreateAsync(new string('t', 90 * 1024 * 1024 / 2))));
            Assert.Equal("Messages:MaxBodyBytes", refused.Limit);
            Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(15), "the refusal should come at once, not at the response timeout");
        }

        var grown = fixture.Silo.ResidentBytes() - before;
        Assert.True(grown < 150L * 1024 * 1024, $"the silo grew by {grown / (1024 * 1024)} MiB receiving four refused 90 MiB bodies");
        await fixture.AssertSiloAnswersAsync();
    }

    [Fact]
    public async Task Errors_do_not_echo_large_input_nor_carry_server_frames()
    {
        var longName = new string('n', 8_000);
        var invalid = await Assert.ThrowsAsync<InvalidResourceKeyException>(() => RawClient.WithKeyAsync(fixture.AlphaOwnerKey,
            () => Raw.Client.GetGrain<IListGrain>($"{fixture.Alpha}/list/{longName}").GetAsync()));
        Assert.True(invalid.Message.Length < 1_000, $"the error is {invalid.Message.Length} characters long");

        // IListGrain on a tenant's id: a typed answer, not the runtime's InvalidCastException with its stack.
        var wrongKind = await Assert.ThrowsAsync<InvalidRequestException>(() => RawClient.WithKeyAsync(fixture.AlphaOwnerKey,
            () => Raw.Client.GetGrain<IListGrain>(GrainId.Create("tenant", fixture.Alpha)).GetAsync()));
        Assert.Contains("do not implement", wrongKind.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Groundwork.Grains", wrongKind.ToString(), StringComparison.Ordinal);

        // A typed error carries no server frames or source paths.
        Assert.DoesNotContain("Groundwork.Grains", invalid.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(".cs:line", invalid.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task One_key_may_hold_only_so_many_feeds_open()
    {
        await using var watcher = await RawClient.ConnectAsync(fixture.Silo.GatewayPort);
        var list = watcher.Client.GetGrain<IListGrain>($"{fixture.Alpha}/list/shared");
        var open = new List<IAsyncEnumerator<ListChange>>();
        try
        {
            LimitExceededException? refused = null;
            for (var i = 0; i <= AttackFixture.WatchersPerKey && refused is null; i++)
            {
                var enumerator = await RawClient.WithKeyAsync(fixture.AlphaOwnerKey, async () =>
                {
                    var e = list.WatchAsync(0).GetAsyncEnumerator();
                    var next = e.MoveNextAsync().AsTask();
                    var first = await Task.WhenAny(next, Task.Delay(TimeSpan.FromSeconds(2)));
                    if (first == next)
                    {
                        await next; // throws when refused
                    }

                    return e;
                });
                open.Add(enumerator);
                refused = null;
            }
        }
        catch (LimitExceededException limit)
        {
            Assert.Equal("Access:MaxWatchersPerKey", limit.Limit);
            Assert.Equal(AttackFixture.WatchersPerKey, open.Count);
            return;
        }
        finally
        {
            foreach (var e in open)
            {
                await Record.ExceptionAsync(() => e.DisposeAsync().AsTask());
            }
        }

        Assert.Fail($"{open.Count} feeds were opened with one key; the limit is {AttackFixture.WatchersPerKey}");
    }

    [Fact]
    public async Task Tenant_data_on_disk_is_readable_by_the_silo_user_only()
    {
        await RawClient.WithKeyAsync(fixture.AlphaOwnerKey, () => Raw.Client.GetGrain<IListGrain>($"{fixture.Alpha}/list/shared").AddItemAsync(new NewItem("on disk")));
        var data = Path.Combine(fixture.Silo.Folder, "data");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(data));
        foreach (var file in Directory.GetFiles(data))
        {
            Assert.True((File.GetUnixFileMode(file) & ~(UnixFileMode.UserRead | UnixFileMode.UserWrite)) == 0,
                $"{Path.GetFileName(file)} is {File.GetUnixFileMode(file)}");
        }
    }

    [Fact]
    public async Task An_edge_key_acting_for_the_owner_gets_no_more_than_its_holder_on_a_resource()
    {
        var tenant = $"edge-{fixture.Run}";
        var owner = (await RawClient.WithKeyAsync(fixture.Operator, () => Raw.Client.GetGrain<ITenantGrain>(tenant).CreateAsync("Edge", "olga"))).Key;
        var secret = Raw.Client.GetGrain<IListGrain>($"{tenant}/list/private");
        var mallory = await RawClient.WithKeyAsync(owner, async () =>
        {
            await Raw.Client.GetGrain<ITenantGrain>(tenant).SetMemberAsync("mallory", TenantRole.Member);
            await secret.CreateAsync("Olga's");
            await secret.SetAccessAsync([], [], tenantReadable: false);
            return (await Raw.Client.GetGrain<ITenantGrain>(tenant).IssueKeyAsync("mallory", KeyScope.Edge)).Key;
        });

        var read = await Assert.ThrowsAsync<AccessDeniedException>(() => RawClient.WithKeyAsync(mallory, () => secret.GetAsync(), onBehalfOf: "olga"));
        Assert.Equal(AccessDenialReason.NotOnAccessList, read.Reason);
        await Assert.ThrowsAsync<AccessDeniedException>(() => RawClient.WithKeyAsync(mallory, () => secret.SetAccessAsync(["mallory"], [], false), onBehalfOf: "olga"));
        await Assert.ThrowsAsync<AccessDeniedException>(() => RawClient.WithKeyAsync(mallory, () => secret.GetAsync()));
    }
}
