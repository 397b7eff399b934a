using Groundwork.Client;
using Groundwork.Client.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Xunit;

namespace Groundwork.Grains.Tests.Client;

public sealed class ClientSettingsTests
{
    [Fact]
    public void A_gateway_refresh_period_set_through_the_configure_delegate_takes_effect()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration["Orleans:Clustering:ProviderType"] = "Redis";
        builder.Configuration["Orleans:Clustering:ConnectionString"] = "127.0.0.1:1";
        builder.UseGroundworkClient(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(7));
        using var host = builder.Build();
        Assert.Equal(TimeSpan.FromSeconds(7), host.Services.GetRequiredService<IOptions<GatewayOptions>>().Value.GatewayListRefreshPeriod);
    }

    [Fact]
    public void A_feed_reopens_after_a_storage_outage_but_ends_on_a_refusal()
    {
        Assert.True(ResourceFeed.IsTransient(new StorageUnavailableException("Redis", "read", "timed out")));
        Assert.True(ResourceFeed.IsTransient(new EnumerationAbortedException("moved")));
        Assert.False(ResourceFeed.IsTransient(new AccessDeniedException(AccessDenialReason.RevokedCredential, "revoked")));
        Assert.False(ResourceFeed.IsTransient(new ResyncRequiredException("t/list/x", 1, 5, 9)));
    }
}
