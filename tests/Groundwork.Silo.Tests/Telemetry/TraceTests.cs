using System.Diagnostics;
using Groundwork.Testing;
using Xunit;

namespace Groundwork.Silo.Tests.Telemetry;

/// <summary>One request is one trace: from a client process, through the silo process, down to storage.</summary>
[Collection(TelemetryCollection.Name)]
public sealed class TraceTests(TelemetrySiloFixture fixture)
{
    [Fact]
    public async Task A_call_from_a_client_process_is_one_trace_from_the_client_span_through_the_grain_call_to_storage()
    {
        var tenant = "tr-" + Guid.NewGuid().ToString("n")[..8];
        var (exit, output) = await RunExampleAsync(fixture.Silo, fixture.Otlp, tenant);
        Assert.True(exit == 0, $"the example exited with {exit}:\n{output}");

        // The example's first call creates the tenant: client span (client process) → grain call (silo) → storage.
        var spans = await fixture.Otlp.WaitForSpansAsync(received => Chain(received) is not null, TimeSpan.FromSeconds(30));
        var (client, server, storage) = Chain(spans)!.Value;
        Assert.Equal(client.TraceId, server.TraceId);
        Assert.Equal(client.SpanId, server.ParentSpanId);
        Assert.Equal(server.TraceId, storage.TraceId);
        Assert.Equal(GroundworkClientName, client.Service);
        Assert.Equal("groundwork-silo", server.Service);
        Assert.Equal(3, client.Kind);  // client
        Assert.Equal(2, server.Kind);  // server

        // Silos are scraped at /metrics: by default they push no metrics over OTLP (no double counting).
        Assert.Contains("groundwork-silo", fixture.Otlp.Senders("/v1/logs"));
        Assert.DoesNotContain("groundwork-silo", fixture.Otlp.Senders("/v1/metrics"));
        Assert.Contains(GroundworkClientName, fixture.Otlp.Senders("/v1/metrics"));
    }

    [Fact]
    public async Task Log_lines_carry_the_trace_and_span_ids_of_the_request_that_wrote_them()
    {
        using var http = new HttpClient { BaseAddress = fixture.Silo.BaseAddress };
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        (ReceivedLog Log, ReceivedSpan Span)? match = null;
        while (match is null)
        {
            // An HTTP request is traced (ASP.NET Core) and logged (routing's "Executing endpoint") inside its span.
            using (await http.GetAsync(new Uri("/health/live", UriKind.Relative), deadline.Token))
            {
            }

            await Task.Delay(300, deadline.Token);
            var spans = fixture.Otlp.Spans.Where(s => s.Service == "groundwork-silo").ToLookup(s => s.SpanId);
            match = fixture.Otlp.Logs
                .Where(l => l.Service == "groundwork-silo" && l.TraceId.Length > 0 && l.TraceId.Trim('0').Length > 0)
                .Select(l => (Log: l, Span: spans[l.SpanId].FirstOrDefault()))
                .Where(p => p.Span is not null && p.Span.TraceId == p.Log.TraceId)
                .Select(p => ((ReceivedLog, ReceivedSpan)?)(p.Log, p.Span!))
                .FirstOrDefault();
        }

        // The console line carries the same ids, so a log read on a terminal also leads to its trace.
        Assert.Contains($"TraceId:{match.Value.Log.TraceId}", fixture.Silo.Output, StringComparison.Ordinal);
    }

    internal const string GroundworkClientName = "groundwork-client";

    /// <summary>A client span of the client process whose child is a silo grain call with a storage write below it.</summary>
    internal static (ReceivedSpan Client, ReceivedSpan Server, ReceivedSpan Storage)? Chain(IReadOnlyList<ReceivedSpan> spans)
    {
        var byId = spans.GroupBy(s => s.SpanId).ToDictionary(g => g.Key, g => g.First());
        foreach (var storage in spans.Where(s => s.Service == "groundwork-silo" && s.Name == "groundwork.storage.write"))
        {
            for (var current = storage; byId.TryGetValue(current.ParentSpanId, out var parent); current = parent)
            {
                if (parent.Service == "groundwork-silo" && parent.Name.EndsWith("ITenantGrain/CreateAsync", StringComparison.Ordinal) &&
                    byId.TryGetValue(parent.ParentSpanId, out var client) && client.Service == GroundworkClientName)
                {
                    return (client, parent, storage);
                }
            }
        }

        return null;
    }

    /// <summary>Runs the README example as a client process against <paramref name="silo"/>, exporting OTLP to <paramref name="otlp"/>, with <paramref name="environment"/> added.</summary>
    internal static async Task<(int Exit, string Output)> RunExampleAsync(SiloProcess silo, OtlpReceiver otlp, string tenant,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(SiloProcess.BuiltAssemblyPath(Path.Combine("client", "Groundwork.Example"), "Groundwork.Example.dll"));
        info.ArgumentList.Add(Path.Combine(silo.Folder, "data", "operator.key"));
        info.ArgumentList.Add(tenant);
        info.Environment["Orleans__Endpoints__GatewayPort"] = silo.GatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (key, value) in otlp.Environment().Concat(environment ?? new Dictionary<string, string>()))
        {
            info.Environment[key] = value;
        }

        using var example = Process.Start(info)!;
        var output = example.StandardOutput.ReadToEndAsync();
        var errors = example.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await example.WaitForExitAsync(deadline.Token);
        return (example.ExitCode, await output + await errors);
    }
}
