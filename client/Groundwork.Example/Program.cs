using Groundwork.Client;
using Groundwork.Client.Hosting;
using Groundwork;
using Groundwork.Lists;
using Groundwork.Tenants;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// Usage: dotnet run --project client/Groundwork.Example [path of the silo's operator.key] [tenant id]
// Connects to the embedded silo on this machine (Orleans:Endpoints:GatewayPort, 30000 by default).
var operatorKey = File.ReadAllText(args.Length > 0 ? args[0] : "data/operator.key").Trim();
var tenantId = args.Length > 1 ? args[1] : "acme";

var builder = Host.CreateApplicationBuilder();
builder.Configuration["Groundwork:Client:ApiKey"] = operatorKey;
builder.UseGroundworkClient();
using var host = builder.Build();
await host.StartAsync();
var grains = host.Services.GetRequiredService<IClusterClient>();

// The operator creates a tenant; its owner's key is shown once.
var owner = await grains.GetTenant(tenantId).CreateAsync("Acme Inc.", owner: "ann");

// From here on, act as the owner: create a list, add items, watch the feed.
using (GroundworkCredentials.Use(owner.Key))
{
    var key = $"{tenantId}/list/groceries";
    var list = grains.GetList(key);
    await list.CreateAsync("Groceries");
    await list.AddItemAsync(new NewItem("milk"), options: new MutationOptions(OperationId: "add-milk"));
    await list.AddItemAsync(new NewItem("bread", Notes: "sourdough"), options: new MutationOptions(OperationId: "add-bread"));

    using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
    await foreach (var change in grains.WatchListAsync(key, afterSequence: 0, stop.Token))
    {
        Console.WriteLine($"{change.Sequence}: {change.Kind} {change.Item?.Title ?? change.Title}");
        if (change.Sequence == 3)
        {
            break; // a real app keeps watching; the example stops once it has seen its own changes
        }
    }
}

await host.StopAsync();
