using Groundwork.Client.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Groundwork.Testing;

/// <summary>A .NET program's view of Groundwork: a host with <c>UseGroundworkClient</c>, as the README shows.</summary>
public sealed class GroundworkClientHost : IAsyncDisposable
{
    private readonly IHost _host;

    private GroundworkClientHost(IHost host) => _host = host;

    /// <summary>The connected client.</summary>
    public IClusterClient Client => _host.Services.GetRequiredService<IClusterClient>();

    /// <summary>Connects to the embedded silo whose gateway is on <paramref name="gatewayPort"/>, calling with <paramref name="apiKey"/>.</summary>
    public static Task<GroundworkClientHost> ConnectAsync(int gatewayPort, string apiKey) =>
        ConnectAsync(apiKey, new Dictionary<string, string?>
        {
            ["Orleans:Endpoints:GatewayPort"] = gatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });

    /// <summary>Connects with the given configuration keys (the same keys a silo reads), calling with <paramref name="apiKey"/>.</summary>
    public static async Task<GroundworkClientHost> ConnectAsync(string apiKey, IReadOnlyDictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder();
        foreach (var (key, value) in settings)
        {
            builder.Configuration[key] = value;
        }

        builder.Configuration["Groundwork:Client:ApiKey"] = apiKey;
        builder.UseGroundworkClient();
        var host = builder.Build();
        await host.StartAsync();
        return new GroundworkClientHost(host);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}
