using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Groundwork.Testing;
using Microsoft.Playwright;
using Xunit;

namespace Groundwork.Silo.Tests.Web;

/// <summary>
/// One real silo process on the embedded default (which serves the web product at <c>/</c>), a tenant with two
/// people (ann, its owner, and bob, an admin) and their keys, and one headless Debian Chromium.
/// </summary>
public sealed class WebProductFixture : IAsyncLifetime
{
    private IPlaywright? _playwright;

    public SiloProcess Silo { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public string Tenant { get; } = $"web-{Guid.NewGuid():n}"[..12];

    public string AnnKey { get; private set; } = "";

    public string BobKey { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Silo = SiloProcess.Start();
        await Silo.WaitReadyAsync(TimeSpan.FromSeconds(60));
        using var http = new HttpClient { BaseAddress = Silo.BaseAddress };
        var created = await CallAsync(http, Silo.OperatorKey, $"/v1/{Tenant}/tenant/create", new { displayName = "Web", owner = "ann" });
        AnnKey = created.GetProperty("key").GetString()!;
        await CallAsync(http, AnnKey, $"/v1/{Tenant}/tenant/set-member", new { principal = "bob", role = "Admin" });
        BobKey = (await CallAsync(http, AnnKey, $"/v1/{Tenant}/tenant/issue-key", new { principal = "bob", scope = "Standard" })).GetProperty("key").GetString()!;

        _playwright = await Playwright.CreateAsync();
        Browser = await HeadlessChromium.LaunchAsync(_playwright);
    }

    /// <summary>A new browser context (its own storage: another person's tab) signed in with <paramref name="key"/>.</summary>
    public async Task<(IBrowserContext Context, IPage Page)> SignInAsync(string key, string hash = "")
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(15_000);
        await page.GotoAsync(new Uri(Silo.BaseAddress, "/" + hash).ToString());
        await page.GetByLabel("API key or token").FillAsync(key);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.Locator("#live[data-state='open']").WaitForAsync();
        return (context, page);
    }

    /// <summary>Saves a screenshot of <paramref name="page"/> as a test artifact (TestResults/screenshots).</summary>
    public static async Task ScreenshotAsync(IPage page, string name)
    {
        var path = Path.Combine(Repository.ArtifactFolder("screenshots"), $"web-{name}.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        Assert.True(new FileInfo(path).Length > 5_000, $"the screenshot {path} is nearly empty");
    }

    public static async Task<JsonElement> CallAsync(HttpClient http, string key, string path, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(path, UriKind.Relative)) { Content = JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"POST {path}: {(int)response.StatusCode} {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
        await Silo.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class WebProductCollection : ICollectionFixture<WebProductFixture>
{
    public const string Name = "the web product in a browser";
}
