using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// Bare Orleans, as its documentation starts a silo: localhost clustering, default options, no filters, no storage.
// Arguments: the silo port and the gateway port.
var siloPort = int.Parse(args[0], CultureInfo.InvariantCulture);
var gatewayPort = int.Parse(args[1], CultureInfo.InvariantCulture);
var builder = Host.CreateApplicationBuilder();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.UseOrleans(silo => silo.UseLocalhostClustering(siloPort, gatewayPort, serviceId: "bare", clusterId: "bare"));
using var host = builder.Build();
await host.StartAsync();
Console.WriteLine("bare silo ready");
await host.WaitForShutdownAsync();
