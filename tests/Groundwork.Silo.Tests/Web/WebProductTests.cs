using System.Net;
using Microsoft.Playwright;
using Xunit;
using static Microsoft.Playwright.Assertions;

namespace Groundwork.Silo.Tests.Web;

/// <summary>
/// The web product served by the real silo process, in headless Chromium: two people in two browser contexts see
/// each other's edits live in a list (todo and board), a channel and a sheet, and a tab that went offline resumes
/// from its cursor with nothing missing or repeated.
/// </summary>
[Collection(WebProductCollection.Name)]
public sealed class WebProductTests(WebProductFixture fixture)
{
    static WebProductTests() => SetDefaultExpectTimeout(15_000);

    [Fact]
    public async Task The_page_and_its_modules_are_served_with_a_strict_content_policy_and_a_bad_key_is_refused_in_the_page()
    {
        using var http = new HttpClient { BaseAddress = fixture.Silo.BaseAddress };
        using var page = await http.GetAsync(new Uri("/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var policy = string.Join(";", page.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self'", policy, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", policy, StringComparison.Ordinal);
        using var module = await http.GetAsync(new Uri("/app/js/web/app.js", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, module.StatusCode);
        Assert.Equal("text/javascript", module.Content.Headers.ContentType?.MediaType);
        Assert.Equal("nosniff", string.Join("", module.Headers.GetValues("X-Content-Type-Options")));
        foreach (var path in (string[])["/app/..%2F..%2Fappsettings.json", "/app/js/../../Groundwork.Gateway.dll", "/app/missing.js"])
        {
            using var missing = await http.GetAsync(new Uri(path, UriKind.Relative));
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }

        await using var context = await fixture.Browser.NewContextAsync();
        var tab = await context.NewPageAsync();
        await tab.GotoAsync(fixture.Silo.BaseAddress.ToString());
        await tab.GetByLabel("API key or token").FillAsync($"gwk_{fixture.Tenant}_000000000000_{new string('0', 64)}");
        await tab.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(tab.GetByRole(AriaRole.Alert)).ToContainTextAsync("unauthenticated");
        await Expect(tab.Locator("#live")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task Two_people_see_each_others_list_edits_live_as_a_todo_list_and_as_a_board()
    {
        var (annContext, ann) = await fixture.SignInAsync(fixture.AnnKey);
        await using var _ = annContext;
        await ann.GetByLabel("New list name").FillAsync("groceries");
        await ann.GetByRole(AriaRole.Button, new() { Name = "New list" }).ClickAsync();
        await Expect(ann.Locator("[data-list='groceries'] h1")).ToHaveTextAsync("groceries");
        var (bobContext, bob) = await fixture.SignInAsync(fixture.BobKey, "#/list/groceries");
        await using var __ = bobContext;

        await AddItemAsync(ann, "Milk");
        await AddItemAsync(ann, "Bread", "ann");
        await Expect(bob.Locator(".items .item .title")).ToHaveTextAsync(["Milk", "Bread"]);
        await bob.GetByLabel("Done: Milk").CheckAsync();
        await Expect(ann.Locator(".item.done .title")).ToHaveTextAsync(["Milk"]);
        await AddItemAsync(bob, "Eggs", "bob");
        await Expect(ann.Locator(".items .item .title")).ToHaveTextAsync(["Milk", "Bread", "Eggs"]);
        await WebProductFixture.ScreenshotAsync(ann, "list-todo");

        await ann.GetByRole(AriaRole.Link, new() { Name = "Board" }).ClickAsync();
        await bob.GetByRole(AriaRole.Link, new() { Name = "Board" }).ClickAsync();
        await Expect(bob.Locator(".column[data-assignee='ann'] .title")).ToHaveTextAsync(["Bread"]);
        await ann.GetByLabel("Assignee of Bread").SelectOptionAsync("bob");
        await Expect(bob.Locator(".column[data-assignee='bob'] .title")).ToHaveTextAsync(["Bread", "Eggs"]);
        await Expect(bob.Locator(".column[data-assignee=''] .title")).ToHaveTextAsync(["Milk"]);
        await WebProductFixture.ScreenshotAsync(bob, "list-board");
    }

    [Fact]
    public async Task Two_people_chat_live_with_typing_presence_and_unread_counts()
    {
        var (annContext, ann) = await fixture.SignInAsync(fixture.AnnKey);
        await using var _ = annContext;
        await ann.GetByLabel("New channel name").FillAsync("general");
        await ann.GetByRole(AriaRole.Button, new() { Name = "New channel" }).ClickAsync();
        await Expect(Composer(ann)).ToBeVisibleAsync();
        var (bobContext, bob) = await fixture.SignInAsync(fixture.BobKey, "#/channel/general");
        await using var __ = bobContext;
        await bob.GetByRole(AriaRole.Button, new() { Name = "Join channel" }).ClickAsync();
        await Expect(ann.Locator(".members li[data-principal='bob']")).ToHaveCountAsync(1);
        await Expect(bob.Locator(".members li[data-principal='ann']")).ToHaveAttributeAsync("data-presence", "Online");

        await Composer(ann).PressSequentiallyAsync("hello b");
        await Expect(bob.Locator(".typing")).ToHaveTextAsync("ann is typing…");
        await Composer(ann).PressSequentiallyAsync("ob");
        await ann.GetByRole(AriaRole.Button, new() { Name = "Send" }).ClickAsync();
        await Expect(bob.Locator(".message .text")).ToHaveTextAsync(["hello bob"]);
        await Expect(bob.Locator(".typing")).ToHaveTextAsync("");
        await Composer(bob).FillAsync("hi ann");
        await bob.GetByRole(AriaRole.Button, new() { Name = "Send" }).ClickAsync();
        await Expect(ann.Locator(".message .text")).ToHaveTextAsync(["hello bob", "hi ann"]);
        await WebProductFixture.ScreenshotAsync(bob, "channel");

        // Bob leaves for the directory: what ann posts now is unread there, and read once he opens the channel.
        await bob.GetByRole(AriaRole.Link, new() { Name = "Groundwork" }).ClickAsync();
        await Composer(ann).FillAsync("are you there?");
        await ann.GetByRole(AriaRole.Button, new() { Name = "Send" }).ClickAsync();
        await Composer(ann).FillAsync("still there?");
        await ann.GetByRole(AriaRole.Button, new() { Name = "Send" }).ClickAsync();
        var row = bob.Locator("li[data-key$='/channel/general']");
        await Expect(row.Locator(".unread")).ToHaveTextAsync("2");
        await WebProductFixture.ScreenshotAsync(bob, "directory-unread");
        await row.GetByRole(AriaRole.Link).ClickAsync();
        await Expect(bob.Locator(".message .text")).ToHaveTextAsync(["hello bob", "hi ann", "are you there?", "still there?"]);
        await bob.GetByRole(AriaRole.Link, new() { Name = "Groundwork" }).ClickAsync();
        await Expect(row.Locator(".unread")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task Two_people_edit_a_sheet_and_see_dependents_recalculate_live()
    {
        var (annContext, ann) = await fixture.SignInAsync(fixture.AnnKey);
        await using var _ = annContext;
        await ann.GetByLabel("New sheet name").FillAsync("budget");
        await ann.GetByRole(AriaRole.Button, new() { Name = "New sheet" }).ClickAsync();
        await Expect(ann.Locator("[data-cell='A1']")).ToBeVisibleAsync();
        var (bobContext, bob) = await fixture.SignInAsync(fixture.BobKey, "#/sheet/budget");
        await using var __ = bobContext;
        await Expect(bob.Locator("[data-cell='A1']")).ToBeVisibleAsync();

        await EnterAsync(ann, "A1", "2");
        await EnterAsync(ann, "A2", "=A1*10");
        await EnterAsync(ann, "A3", "=SUM(A1:A2)");
        await Expect(bob.Locator("[data-cell='A2']")).ToHaveAttributeAsync("data-value", "20");
        await Expect(bob.Locator("[data-cell='A3']")).ToHaveAttributeAsync("data-value", "22");
        await EnterAsync(bob, "A1", "5");
        await Expect(ann.Locator("[data-cell='A2']")).ToHaveAttributeAsync("data-value", "50");
        await Expect(ann.Locator("[data-cell='A3']")).ToHaveAttributeAsync("data-value", "55");

        // Focusing a formula cell shows its formula; a malformed one is refused and the cell keeps its value.
        await ann.Locator("[data-cell='A2']").FocusAsync();
        await Expect(ann.Locator("[data-cell='A2']")).ToHaveValueAsync("=A1*10");
        await EnterAsync(bob, "B1", "=SUM(");
        await Expect(bob.Locator("#status")).ToContainTextAsync("invalid-formula");
        await Expect(bob.Locator("[data-cell='B1']")).ToHaveValueAsync("");
        await Expect(ann.Locator("[data-cell='B1']")).ToHaveValueAsync("");
        await WebProductFixture.ScreenshotAsync(ann, "sheet");
    }

    [Fact]
    public async Task A_tab_that_went_offline_resumes_from_its_cursor_with_nothing_missing_or_repeated()
    {
        var (annContext, ann) = await fixture.SignInAsync(fixture.AnnKey);
        await using var _ = annContext;
        await ann.GetByLabel("New list name").FillAsync("offline");
        await ann.GetByRole(AriaRole.Button, new() { Name = "New list" }).ClickAsync();
        var (bobContext, bob) = await fixture.SignInAsync(fixture.BobKey, "#/list/offline");
        await using var __ = bobContext;
        await AddItemAsync(ann, "one");
        await Expect(bob.Locator(".items .title")).ToHaveTextAsync(["one"]);

        await bobContext.SetOfflineAsync(true);
        await Expect(bob.Locator("#live")).ToHaveAttributeAsync("data-state", "offline");
        foreach (var title in (string[])["two", "three", "four"])
        {
            await AddItemAsync(ann, title);
        }

        await ann.GetByLabel("Done: one").CheckAsync();
        await Expect(ann.Locator(".list")).ToHaveAttributeAsync("data-version", "6");
        await Expect(bob.Locator(".items .title")).ToHaveTextAsync(["one"]);

        await bobContext.SetOfflineAsync(false);
        await Expect(bob.Locator("#live")).ToHaveAttributeAsync("data-state", "open");
        await Expect(bob.Locator(".list")).ToHaveAttributeAsync("data-version", "6");
        await Expect(bob.Locator(".items .title")).ToHaveTextAsync(["one", "two", "three", "four"]);
        await Expect(bob.Locator(".item.done .title")).ToHaveTextAsync(["one"]);
        await WebProductFixture.ScreenshotAsync(bob, "offline-resumed");
    }

    private static ILocator Composer(IPage page) => page.GetByRole(AriaRole.Textbox, new() { Name = "Message" });

    private static async Task AddItemAsync(IPage page, string title, string? assignee = null)
    {
        await page.GetByLabel("New item").FillAsync(title);
        await page.GetByLabel("Assignee", new() { Exact = true }).FillAsync(assignee ?? "");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add" }).ClickAsync();
        await Expect(page.Locator(".item .title").Filter(new() { HasText = title })).ToHaveCountAsync(1);
    }

    private static async Task EnterAsync(IPage page, string cell, string input)
    {
        var box = page.Locator($"[data-cell='{cell}']");
        await box.ClickAsync();
        await box.FillAsync(input);
        await box.PressAsync("Enter");
    }
}
