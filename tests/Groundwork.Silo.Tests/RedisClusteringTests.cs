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
        var (silo, settings, operatorKey) = await StartClusteredSiloAsync(redis);
        await using var _ = silo;
        string ownerKey;
        await using (var operatorClient = await GroundworkClientHost.ConnectAsync(operatorKey, settings))
        {
            ownerKey = (await operatorClient.Client.GetTenant("acme").CreateAsync("Acme", "ann")).Key;
        }

        await using var app = await GroundworkClientHost.ConnectAsync(ownerKey, settings);
        await app.Client.GetList("acme/list/via-redis").CreateAsync("Found through Redis");
        Assert.Equal("Found through Redis", (await app.Client.GetList("acme/list/via-redis").GetAsync()).Title);
    }

    [Fact]
    public async Task With_Redis_storage_a_state_over_MaxStateBytes_is_refused_with_the_limit_and_the_stored_list_is_kept()
    {
        await using var redis = await RedisServer.StartAsync();
        var (silo, settings, operatorKey) = await StartClusteredSiloAsync(redis, new Dictionary<string, string>
        {
            ["Groundwork__Storage__Kind"] = "Redis",
            ["Groundwork__Storage__ConnectionString"] = redis.ConnectionString,
            ["Groundwork__Storage__MaxStateBytes"] = "8192",
        });
        await using var _ = silo;
        await using var client = await GroundworkClientHost.ConnectAsync(operatorKey, settings);
        await client.Client.GetTenant("big").CreateAsync("Big", "ann");
        var list = client.Client.GetList("big/list/grows");
        await list.CreateAsync("Grows");

        var stored = new List<string>();
        LimitExceededException? refused = null;
        for (var i = 0; i < 100 && refused is null; i++)
        {
            var title = $"{i:000} " + new string('x', 180);
            try
            {
                await list.AddItemAsync(new NewItem(title));
                stored.Add(title);
            }
            catch (LimitExceededException error)
            {
                refused = error;
            }
        }

        Assert.NotNull(refused);
        Assert.Equal("Storage:MaxStateBytes", refused.Limit);
        Assert.Equal(8192, refused.Maximum);
        Assert.True(refused.Attempted > 8192);
        Assert.NotEmpty(stored);

        // Every acknowledged item is in Redis, and the refused one is not (read after the silo dropped its memory).
        Assert.Equal(stored, (await list.GetAsync()).Items.Select(item => item.Title));
    }

    /// <summary>
    /// Starts a silo process that joins a cluster through <paramref name="redis"/> (plus <paramref name="extra"/>
    /// settings), and gives the client settings: the same cluster keys in configuration form, and no gateway port,
    /// so the client learns the gateways from Redis.
    /// </summary>
    private static async Task<(SiloProcess Silo, Dictionary<string, string?> ClientSettings, string OperatorKey)> StartClusteredSiloAsync(
        RedisServer redis, IReadOnlyDictionary<string, string>? extra = null)
    {
        var id = "gw-" + Guid.NewGuid().ToString("n")[..8];
        var operatorKey = "gwo_" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var cluster = new Dictionary<string, string>
        {
            ["Orleans__ClusterId"] = id,
            ["Orleans__ServiceId"] = id,
            ["Orleans__Clustering__ProviderType"] = "Redis",
            ["Orleans__Clustering__ConnectionString"] = redis.ConnectionString,
        };
        var environment = new Dictionary<string, string>(cluster)
        {
            ["Orleans__Endpoints__AdvertisedIPAddress"] = "127.0.0.1",
            ["Groundwork__Access__OperatorKey"] = operatorKey,
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        var silo = SiloProcess.Start(environment: environment);
        try
        {
            await silo.WaitReadyAsync(TimeSpan.FromSeconds(60));
        }
        catch
        {
            await silo.DisposeAsync();
            throw;
        }

        var settings = cluster.ToDictionary(e => e.Key.Replace("__", ":", StringComparison.Ordinal), e => (string?)e.Value);
        return (silo, settings, operatorKey);
    }
}
