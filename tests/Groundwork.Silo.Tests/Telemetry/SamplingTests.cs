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
