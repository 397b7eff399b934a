using System.Net;
using Groundwork.Testing;
using Microsoft.Playwright;
using Xunit;

namespace Groundwork.Silo.Tests.Telemetry;

/// <summary>The Orleans dashboard in a real browser (Debian's Chromium, headless), behind the operator credential.</summary>
[Collection(TelemetryCollection.Name)]
public sealed class DashboardBrowserTests(TelemetrySiloFixture fixture)
{
    [Fact]
    public async Task Without_the_operator_key_the_dashboard_answers_401_with_a_basic_challenge()
    {
        using var http = new HttpClient { BaseAddress = fixture.Silo.BaseAddress };
        foreach (var path in (string[])["/dashboard", "/dashboard/", "/dashboard/DashboardCounters", "/dashboard/index.min.js"])
        {
            using var anonymous = await http.GetAsync(new Uri(path, UriKind.Relative));
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            Assert.Equal("Basic", Assert.Single(anonymous.Headers.WwwAuthenticate).Scheme);
            Assert.Contains("realm=\"Groundwork\"", anonymous.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        }

        using var wrong = new HttpRequestMessage(HttpMethod.Get, new Uri("/dashboard/", UriKind.Relative));
        wrong.Headers.Authorization = DashboardCredential.Basic("gwo_" + new string('0', 64));
        using var refused = await http.SendAsync(wrong);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);

        // Scrapers and orchestrators keep their open endpoints.
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("/metrics", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("/health/ready", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task The_operator_opens_the_dashboard_in_headless_chromium_and_sees_the_silo()
    {
        await fixture.WaitForLoadAsync(1, TimeSpan.FromSeconds(60));
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await HeadlessChromium.LaunchAsync(playwright);
        await using var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            HttpCredentials = new HttpCredentials { Username = "operator", Password = fixture.Silo.OperatorKey },
            ViewportSize = new ViewportSize { Width = 1440, Height = 1000 },
        });
        var page = await context.NewPageAsync();
        var response = await page.GotoAsync(new Uri(fixture.Silo.BaseAddress, "/dashboard/").ToString());
        Assert.NotNull(response);
        Assert.Equal(200, response.Status);

        // The dashboard polls the silo: wait until it shows the silo's grain types, which only live data contains.
        try
        {
            await page.WaitForFunctionAsync("() => document.body.innerText.includes('ListGrain')", null, new PageWaitForFunctionOptions { Timeout = 30_000 });
        }
        catch (TimeoutException)
        {
            Assert.Fail("the dashboard did not show the silo's grains; it shows:\n" + await page.InnerTextAsync("body"));
        }

        var screenshot = Path.Combine(Repository.ArtifactFolder("screenshots"), "dashboard.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });
        var png = await File.ReadAllBytesAsync(screenshot);
        Assert.True(png.Length > 10_000, $"the screenshot at {screenshot} is only {png.Length} bytes");
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
    }
}
