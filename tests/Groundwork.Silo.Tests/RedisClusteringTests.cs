using Groundwork.Lists;
using Groundwork.Tenants;
using Groundwork.Testing;
using Xunit;

namespace Groundwork.Silo.Tests;

public sealed class RedisClusteringTests
{
    [Fact]
    public async Task Silo_and_client_find_each_other_through_redis_from_the_same_configuration_keys()
    {
        await using var redis = await RedisServer.StartAsync();
        var id = "gw-" + Guid.NewGuid().ToString("n")[..8];
        var operatorKey = "gwo_" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var cluster = new Dictionary<string, string>
        {
            ["Orleans__ClusterId"] = id,
            ["Orleans__ServiceId"] = id,
            ["Orleans__Clustering__ProviderType"] = "Redis",
            ["Orleans__Clustering__ConnectionString"] = redis.ConnectionString,
            ["Orleans__Endpoints__AdvertisedIPAddress"] = "127.0.0.1",
            ["Groundwork__Access__OperatorKey"] = operatorKey,
        };
        await using var silo = SiloProcess.Start(environment: cluster);
        await silo.WaitReadyAsync(TimeSpan.FromSeconds(60));

        // The client gets the same keys, in configuration form, and no gateway port: it learns gateways from Redis.
        var settings = cluster.ToDictionary(e => e.Key.Replace("__", ":", StringComparison.Ordinal), e => (string?)e.Value);
        settings.Remove("Orleans:Endpoints:AdvertisedIPAddress");
        settings.Remove("Groundwork:Access:OperatorKey");
        string ownerKey;
        await using (var operatorClient = await GroundworkClientHost.ConnectAsync(operatorKey, settings))
        {
            ownerKey = (await operatorClient.Client.GetTenant("acme").CreateAsync("Acme", "ann")).Key;
        }

        await using var app = await GroundworkClientHost.ConnectAsync(ownerKey, settings);
        await app.Client.GetList("acme/list/via-redis").CreateAsync("Found through Redis");
        Assert.Equal("Found through Redis", (await app.Client.GetList("acme/list/via-redis").GetAsync()).Title);
    }
}
