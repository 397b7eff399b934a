using System.Net.Http.Headers;
using Groundwork.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Groundwork.Gateway.Tests;

/// <summary>
/// One in-process cluster (the shared test settings, real SQLite storage, the real access filter) with the gateway in
/// front of it on an in-memory server, as an Orleans client of the cluster. Tests take fresh tenants.
/// </summary>
public sealed class GatewayFixture : IAsyncLifetime
{
    /// <summary>The cluster behind the gateway.</summary>
    public ClusterFixture Cluster { get; } = ClusterFixture.Create(ClusterFixture.Settings, silos: 1);

    /// <summary>The gateway's limits in these tests.</summary>
    public static IReadOnlyDictionary<string, string?> GatewaySettings { get; } = new Dictionary<string, string?>
    {
        ["Groundwork:Gateway:MaxBodyBytes"] = "65536",
        ["Groundwork:Gateway:HeartbeatInterval"] = "00:00:00.200",
        ["Groundwork:Gateway:StreamOpenWindow"] = "00:00:00.300",
    };

    private WebApplication _app = null!;

    /// <summary>A client of the gateway.</summary>
    public HttpClient Http { get; private set; } = null!;

    /// <summary>The gateway's in-memory server (for WebSocket clients).</summary>
    public object GatewayServer => _app.GetTestServer();

    /// <inheritdoc/>
    public async Task InitializeAsync()
    {
        await ((IAsyncLifetime)Cluster).InitializeAsync();
        _app = await StartGatewayAsync(Cluster, GatewaySettings);
        Http = _app.GetTestClient();
    }

    /// <summary>A gateway with <paramref name="settings"/> (and <paramref name="configure"/>'s services) in front of <paramref name="cluster"/>, on an in-memory server.</summary>
    public static async Task<WebApplication> StartGatewayAsync(
        ClusterFixture cluster, IReadOnlyDictionary<string, string?> settings, Action<WebApplicationBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddSingleton<IGrainFactory>(cluster.Client);
        builder.Services.AddGroundworkGateway(builder.Configuration);
        configure?.Invoke(builder);
        var app = builder.Build();
        app.MapGroundworkGateway();
        await app.StartAsync();
        return app;
    }

    /// <summary>A request to <paramref name="path"/> with <paramref name="key"/> as its bearer credential.</summary>
    public static HttpRequestMessage Request(HttpMethod method, string path, string? key, string? json = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        if (json is not null)
        {
            request.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        }

        return request;
    }

    /// <inheritdoc/>
    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await Cluster.DisposeAsync();
    }
}

/// <summary>The tests that share one <see cref="GatewayFixture"/>.</summary>
[CollectionDefinition(Name)]
public sealed class GatewayCollection : ICollectionFixture<GatewayFixture>
{
    /// <summary>The collection's name.</summary>
    public const string Name = "gateway";
}
