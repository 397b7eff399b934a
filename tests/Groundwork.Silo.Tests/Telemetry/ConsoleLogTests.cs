using Groundwork.Testing;
using Xunit;

namespace Groundwork.Silo.Tests.Telemetry;

/// <summary>The operator's choice of console formatter is kept, and its lines still carry trace ids.</summary>
public sealed class ConsoleLogTests
{
    [Fact]
    public async Task With_the_json_console_formatter_log_lines_are_json_and_carry_the_trace_id()
    {
        await using var silo = SiloProcess.Start(environment: new Dictionary<string, string>
        {
            ["Logging__Console__FormatterName"] = "json",
            ["Logging__LogLevel__Microsoft.AspNetCore.Routing"] = "Information",
        });
        await silo.WaitReadyAsync(TimeSpan.FromSeconds(60));
        using var http = new HttpClient { BaseAddress = silo.BaseAddress };
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        string? traced = null;
        while (traced is null)
        {
            // "Executing endpoint" is logged by ASP.NET Core's routing inside the request's span.
            using (await http.GetAsync(new Uri("/health/live", UriKind.Relative), deadline.Token))
            {
            }

            await Task.Delay(200, deadline.Token);
            traced = silo.Output.Split('\n').FirstOrDefault(line => line.Contains("\"TraceId\"", StringComparison.Ordinal));
        }

        Assert.StartsWith("{", traced.TrimStart(), StringComparison.Ordinal);
        Assert.DoesNotContain(silo.Output.Split('\n'), line => line.StartsWith("info: ", StringComparison.Ordinal));
    }
}
