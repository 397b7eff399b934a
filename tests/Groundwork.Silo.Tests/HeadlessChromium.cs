using Groundwork.Testing;
using Microsoft.Playwright;

namespace Groundwork.Silo.Tests;

/// <summary>Debian's Chromium, headless, as the browser tests drive it through Playwright (which downloads no browser here).</summary>
public static class HeadlessChromium
{
    /// <summary>Launches it, failing with what to install when it is missing.</summary>
    public static Task<IBrowser> LaunchAsync(IPlaywright playwright)
    {
        ArgumentNullException.ThrowIfNull(playwright);
        var executable = Repository.FindProgram("chromium", "/usr/bin/chromium")
            ?? throw new InvalidOperationException("chromium is not installed: install Debian's 'chromium' package (apt-get install chromium; .ci/run does this).");
        return playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = executable,
            Headless = true,

            // This machine's network is closed: no background connections, updates, sync or QUIC.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
        });
    }
}
