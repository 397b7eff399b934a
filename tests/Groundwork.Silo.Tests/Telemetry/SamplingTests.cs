using Groundwork.Client.Hosting;
using Groundwork.Testing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Xunit;

namespace Groundwork.Silo.Tests.Telemetry;

public sealed class SamplingTests
{
    [Fact]
    public async Task A_silo_sampling_nothing_of_its_own_still_records_calls_that_arrive_in_a_sampled_trace()
    {
        await using var otlp = OtlpReceiver.Start();
        var environment = new Dictionary<string, string>(otlp.Environment()) { ["Groundwork__Telemetry__TraceSampleRatio"] = "0" };
        await using var silo = SiloProcess.Start(environment: environment);
        await silo.WaitReadyAsync(TimeSpan.FromSeconds(60));

        // Traces that start in the silo (HTTP requests) are sampled at 0: none is recorded.
        using (var http = new HttpClient { BaseAddress = silo.BaseAddress })
        {
            for (var i = 0; i < 5; i++)
            {
                using var _ = await http.GetAsync(new Uri("/health/live", UriKind.Relative));
            }
        }

        // A client sampling everything (the default ratio 1) calls in: the silo follows the parent's decision.
        var (exit, output) = await TraceTests.RunExampleAsync(silo, otlp, "smp-" + Guid.NewGuid().ToString("n")[..8]);
        Assert.True(exit == 0, $"the example exited with {exit}:\n{output}");
        var spans = await otlp.WaitForSpansAsync(received => TraceTests.Chain(received) is not null, TimeSpan.FromSeconds(30));
        Assert.DoesNotContain(spans, s => s.Service == "groundwork-silo" && s.Scope == "Microsoft.AspNetCore");
        Assert.All(spans.Where(s => s.Service == "groundwork-silo"), s => Assert.NotEqual("", s.ParentSpanId));
    }

    [Fact]
    public async Task A_silo_sampling_everything_follows_a_client_that_samples_nothing_and_records_none_of_its_calls()
    {
        await using var otlp = OtlpReceiver.Start();
        await using var silo = SiloProcess.Start(environment: otlp.Environment());
        await silo.WaitReadyAsync(TimeSpan.FromSeconds(60));

        // The client's calls (the tenant's creation, its grain calls and their storage writes) carry its decision.
        var (exit, output) = await TraceTests.RunExampleAsync(silo, otlp, "uns-" + Guid.NewGuid().ToString("n")[..8],
            new Dictionary<string, string> { ["Groundwork__Telemetry__TraceSampleRatio"] = "0" });
        Assert.True(exit == 0, $"the example exited with {exit}:\n{output}");

        // A request the silo starts itself is recorded (its ratio is 1): once it has arrived, so has anything before it.
        using (var http = new HttpClient { BaseAddress = silo.BaseAddress })
        {
            using var _ = await http.GetAsync(new Uri("/health/live", UriKind.Relative));
        }

        var spans = await otlp.WaitForSpansAsync(received => received.Any(s => s.Service == "groundwork-silo" && s.Scope == "Microsoft.AspNetCore"), TimeSpan.FromSeconds(30));
        Assert.DoesNotContain(spans, s => s.Service == TraceTests.GroundworkClientName);
        // (The silo's own work, such as membership and the dashboard's timers, starts traces at its ratio; so does the
        // key's verification, which the access filter calls before the call's span begins.)
        var fromCalls = spans.Where(s => s.Service == "groundwork-silo" && (s.Name == "groundwork.storage.write" ||
            s.Name.Contains("IListGrain/", StringComparison.Ordinal) || s.Name.Contains("ITenantGrain/CreateAsync", StringComparison.Ordinal) ||
            s.Name.Contains("IAsyncEnumerableGrainExtension/", StringComparison.Ordinal))).ToList();
        Assert.True(fromCalls.Count == 0, "the silo recorded spans of an unsampled client's calls: " + string.Join(", ", fromCalls.Select(s => $"{s.Scope} {s.Name}")));
    }

    [Theory]
    [InlineData("1.5")]
    [InlineData("-0.1")]
    [InlineData("half")]
    public void A_client_refuses_a_trace_sample_ratio_outside_0_to_1_with_a_message_naming_the_setting(string ratio)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration["Groundwork:Telemetry:TraceSampleRatio"] = ratio;
        var error = Assert.Throws<OptionsValidationException>(() => builder.UseGroundworkClient());
        Assert.Contains($"Groundwork:Telemetry:TraceSampleRatio '{ratio}'", error.Message, StringComparison.Ordinal);
    }
}
