using Groundwork.Access;
using Groundwork.Chat;
using Groundwork.Client.Hosting;
using Groundwork.Lists;
using Groundwork.Sheets;
using Groundwork.Tenants;
using Groundwork.Testing;
using Groundwork.Transport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Metadata;
using Orleans.Serialization.TypeSystem;
using Xunit;

namespace Groundwork.Grains.Tests.Client;

/// <summary>The silo and the client resolve grain interface types through the cache, with Orleans' own answers.</summary>
[Collection(ClusterCollection.Name)]
public sealed class GrainInterfaceTypeCacheTests(ClusterFixture fixture)
{
    private static readonly Type[] Interfaces =
        [typeof(IListGrain), typeof(IChannelGrain), typeof(IWorkbookGrain), typeof(ITenantGrain), typeof(IManagementGrain)];

    private static void AssertSameAsOrleans(IServiceProvider services)
    {
        var cache = services.GetRequiredService<GrainInterfaceTypeCache>();
        var resolver = services.GetRequiredService<GrainInterfaceTypeResolver>();
        var orleans = new GrainInterfaceTypeResolver(services.GetServices<IGrainInterfaceTypeProvider>(), services.GetRequiredService<TypeConverter>());
        foreach (var type in Interfaces)
        {
            var expected = orleans.GetGrainInterfaceType(type);
            Assert.Equal(expected, resolver.GetGrainInterfaceType(type));
            Assert.Equal(expected, resolver.GetGrainInterfaceType(type));
        }

        Assert.True(cache.Count >= Interfaces.Length, $"the cache holds {cache.Count} interfaces");
        Assert.Throws<ArgumentException>(() => resolver.GetGrainInterfaceType(typeof(string)));
    }

    [Fact]
    public void The_silo_resolves_interfaces_through_the_cache() =>
        AssertSameAsOrleans(fixture.Cluster.Silos[0].ServiceProvider);

    [Fact]
    public void The_client_resolves_interfaces_through_the_cache()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.UseGroundworkClient();
        using var host = builder.Build();
        AssertSameAsOrleans(host.Services);
    }

    [Fact]
    public async Task A_grain_reached_through_a_cached_type_answers()
    {
        // The silo's own factory, as the gateway inside the silo uses it: by interface type, through the cache.
        var owned = await fixture.NewListAsync("Cached");
        var siloGrains = fixture.Cluster.Silos[0].ServiceProvider.GetRequiredService<IGrainFactory>();
        var byType = (IListGrain)siloGrains.GetGrain(typeof(IListGrain), owned.Key);
        Assert.Equal(owned.List.GetGrainId(), byType.GetGrainId());
        RequestContext.Set(CallHeaders.ApiKey, owned.OwnerKey);
        try
        {
            Assert.Equal("Cached", (await byType.GetAsync()).Title);
        }
        finally
        {
            RequestContext.Clear();
        }
    }
}
