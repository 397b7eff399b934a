using Groundwork.Client;
using Groundwork.Client.Hosting;
using Groundwork.ChatProduct;
using Groundwork.Tenants;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

// Usage: dotnet run --project client/Groundwork.Chat -- --channel general [--key-file path]
// Without --key-file the key is Groundwork:Client:ApiKey from configuration (Groundwork__Client__ApiKey).
string? Option(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;

var builder = Host.CreateApplicationBuilder();
if (Option("--key-file") is { } keyFile)
{
    builder.Configuration["Groundwork:Client:ApiKey"] = File.ReadAllText(keyFile).Trim();
}

builder.Logging.ClearProviders(); // the screen is the chat's; logs would tear it
builder.UseGroundworkClient();
using var host = builder.Build();
await host.StartAsync();
var grains = host.Services.GetRequiredService<IClusterClient>();
var key = host.Services.GetRequiredService<IOptions<GroundworkClientOptions>>().Value.ApiKey
          ?? throw new InvalidOperationException("no key: pass --key-file or set Groundwork:Client:ApiKey");
var tenant = GroundworkCredentials.TenantOf(key) ?? throw new InvalidOperationException("the key is not a tenant key");
var me = await grains.GetTenant(tenant).WhoAmIAsync();

var session = new ChatSession(grains, tenant, me.Principal, Option("--channel") ?? "general");
await session.OpenAsync();
using var stop = new CancellationTokenSource();
var following = session.FollowAsync(stop.Token);
await new ChatScreen(session).RunAsync(stop.Token);
await stop.CancelAsync();
await session.DisconnectAsync();
await following;
await host.StopAsync();
