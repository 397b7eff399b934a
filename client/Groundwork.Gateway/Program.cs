using Groundwork.Client.Hosting;
using Groundwork.Gateway;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

// The gateway on its own: an Orleans client of the cluster that Orleans:Clustering:* names (the embedded silo on
// this machine by default), serving HTTP on Urls (default http://localhost:8081).
var builder = WebApplication.CreateBuilder(args);
builder.WebHost.UseUrls(builder.Configuration["Urls"] ?? "http://localhost:8081");
builder.UseGroundworkClient();
builder.Services.AddOpenTelemetry() // beside the client's own telemetry: the HTTP side's spans and request metrics
    .WithTracing(tracing => tracing.AddAspNetCoreInstrumentation())
    .WithMetrics(metrics => metrics.AddAspNetCoreInstrumentation());
builder.Services.AddGroundworkGateway(builder.Configuration);
var app = builder.Build();
app.MapGet("/health/live", () => Results.Ok());
app.MapGet("/health/ready", () => Results.Ok()); // the Orleans client connects before the host serves HTTP
app.MapGroundworkGateway();
await app.RunAsync();
