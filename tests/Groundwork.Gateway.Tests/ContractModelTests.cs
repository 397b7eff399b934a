using System.Reflection;
using Groundwork.Access;
using Groundwork.Gateway.Contract;
using Xunit;

namespace Groundwork.Gateway.Tests;

/// <summary>The contract model: every contract method is served or kept off HTTP on purpose, and routes follow the rules.</summary>
public sealed class ContractModelTests
{
    private static readonly GatewayContract Contract = GatewayContract.Default;

    [Fact]
    public void Every_method_of_every_grain_interface_is_served_or_excluded_with_a_reason()
    {
        var served = Contract.Operations.Select(o => Definition(o.Method)).ToHashSet();
        var excluded = Contract.Excluded.Select(e => Definition(e.Method)).ToHashSet();
        var grainInterfaces = typeof(ResourceKinds).Assembly.GetTypes()
            .Where(t => t.IsInterface && typeof(IAddressable).IsAssignableFrom(t));
        var missing = new List<string>();
        foreach (var grainInterface in grainInterfaces)
        {
            foreach (var method in grainInterface.GetMethods())
            {
                var definition = Definition(method);
                if (!served.Contains(definition) && !(excluded.Contains(definition) || GatewayContract.Exclusion(method) is not null))
                {
                    missing.Add($"{grainInterface.Name}.{method.Name}");
                }
            }
        }

        Assert.True(missing.Count == 0, "Neither served nor excluded: " + string.Join(", ", missing) +
            ". Serve them (an interface with [ResourceKind] or [TenantScoped]) or mark them [DotNetOnly(reason)].");
        Assert.All(Contract.Excluded, e => Assert.False(string.IsNullOrWhiteSpace(e.Reason)));
    }

    [Fact]
    public void Methods_that_need_no_credential_stay_off_http()
    {
        var verify = typeof(Tenants.ITenantGrain).GetMethod(nameof(Tenants.ITenantGrain.VerifyKeyAsync))!;
        Assert.DoesNotContain(Contract.Operations, o => o.Method == verify);
        Assert.Contains(Contract.Excluded, e => e.Method == verify);
        Assert.DoesNotContain(Contract.Operations, o => o.Requirement == Requirement.None);
    }

    [Fact]
    public void Routes_verbs_and_parameters_follow_the_contract()
    {
        var byId = Contract.Operations.ToDictionary(o => o.Id);
        Assert.Equal("/v1/{tenant}/list/{name}/add-item", byId["list.add-item"].Route);
        Assert.False(byId["list.add-item"].IsGet);
        Assert.True(byId["list.get"].IsGet);
        Assert.Equal("/v1/{tenant}/tenant/whoami", byId["tenant.whoami"].Route);
        Assert.Equal("/v1/{tenant}/directory/list", byId["directory.list"].Route);

        // A safe method with simple parameters is a GET; one that changes something is a POST even when it needs only Read.
        Assert.True(byId["workbook.read"].IsGet);
        Assert.False(byId["channel.join"].IsGet);
        Assert.False(byId["channel.mark-read"].IsGet);

        // Feeds are streams on GET, with their cursor where Last-Event-ID goes.
        var watch = byId["list.watch"];
        Assert.Equal(ResultShape.Stream, watch.Shape);
        Assert.True(watch.IsGet);
        Assert.Equal("afterSequence", watch.Parameters[watch.CursorIndex].Name);

        // MutationOptions come from headers, never from the body.
        var add = byId["list.add-item"].Parameters;
        Assert.Equal(["item", "position", "options"], add.Select(p => p.Name));
        Assert.Equal(ParameterSource.MutationOptions, add[2].Source);
        Assert.True(add[0].Required);
        Assert.False(add[1].Required);

        // Every resource kind is reachable with no route code, with its inherited watch and summary.
        foreach (var kind in ResourceKinds.All)
        {
            Assert.Contains(Contract.Operations, o => o.Target == TargetKind.Resource && o.Segment == kind);
        }

        Assert.Contains("channel.summary", byId.Keys);
        Assert.Contains("workbook.watch", byId.Keys);
    }

    [Fact]
    public void Internal_plumbing_is_excluded()
    {
        var ids = Contract.Operations.Select(o => o.Id).ToHashSet();
        Assert.DoesNotContain("directory.register", ids);
        Assert.DoesNotContain("directory.reserve", ids);
        Assert.DoesNotContain("inbox.track", ids);
        Assert.DoesNotContain(Contract.Operations, o => o.Interface.Name.StartsWith("IFeedRelay", StringComparison.Ordinal));
    }

    private static MethodInfo Definition(MethodInfo method)
    {
        var type = method.DeclaringType!;
        if (!type.IsGenericType || type.IsGenericTypeDefinition)
        {
            return method;
        }

        return (MethodInfo)MethodBase.GetMethodFromHandle(method.MethodHandle, type.GetGenericTypeDefinition().TypeHandle)!;
    }
}
