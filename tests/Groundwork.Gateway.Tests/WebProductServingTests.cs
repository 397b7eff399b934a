using System.Net;
using Microsoft.AspNetCore.TestHost;
using Xunit;
using static Groundwork.Gateway.Tests.GatewayFixture;

namespace Groundwork.Gateway.Tests;

/// <summary>The web product's files as the gateway serves them (the browser tests run it in Chromium, in Groundwork.Silo.Tests).</summary>
[Collection(GatewayCollection.Name)]
public sealed class WebProductServingTests(GatewayFixture fixture)
{
    [Fact]
    public async Task Every_module_the_page_loads_is_served_and_the_product_can_be_turned_off()
    {
        var page = await fixture.Http.GetStringAsync(new Uri("/", UriKind.Relative));
        var web = Path.Combine(Groundwork.Testing.Repository.Root, "client", "Groundwork.Gateway", "Web");
        var modules = Directory.EnumerateFiles(web, "*", SearchOption.AllDirectories)
            .Select(file => "/app/" + Path.GetRelativePath(web, file).Replace('\\', '/'))
            .Where(path => path != "/app/index.html")
            .ToList();
        Assert.Contains("/app/js/web/app.js", page, StringComparison.Ordinal);
        Assert.Contains("/app/app.css", page, StringComparison.Ordinal);
        foreach (var path in modules)
        {
            using var served = await fixture.Http.GetAsync(new Uri(path, UriKind.Relative));
            Assert.True(served.StatusCode == HttpStatusCode.OK, $"{path}: {served.StatusCode}");
            Assert.NotNull(served.Headers.ETag);
        }

        var settings = new Dictionary<string, string?>(GatewaySettings) { ["Groundwork:Gateway:WebProduct"] = "false" };
        await using var off = await StartGatewayAsync(fixture.Cluster, settings);
        using var http = off.GetTestClient();
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(new Uri("/", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(new Uri("/app/js/web/app.js", UriKind.Relative))).StatusCode);
    }
}
