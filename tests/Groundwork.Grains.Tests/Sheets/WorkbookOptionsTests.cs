using Groundwork.Grains.Resources;
using Groundwork.Grains.Sheets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xunit;

namespace Groundwork.Grains.Tests.Sheets;

/// <summary>The Sheets options are checked when the silo starts, with a message that names the setting.</summary>
public sealed class WorkbookOptionsTests
{
    private static WorkbookOptions Bind(string timeZone)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Groundwork:Sheets:TimeZone"] = timeZone }).Build();
        using var services = new ServiceCollection().AddBuildingBlocks(configuration, typeof(WorkbookGrain).Assembly).BuildServiceProvider();
        return services.GetRequiredService<IOptions<WorkbookOptions>>().Value;
    }

    [Theory]
    [InlineData("UTC")]
    [InlineData("Europe/Paris")]
    [InlineData("America/New_York")]
    public void A_known_time_zone_is_taken(string zone) => Assert.Equal(zone, Bind(zone).TimeZone);

    [Fact]
    public void An_unknown_time_zone_is_refused_naming_the_setting()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Bind("Mars/Olympus_Mons"));
        Assert.Contains("Groundwork:Sheets:TimeZone 'Mars/Olympus_Mons'", error.Message, StringComparison.Ordinal);
    }
}
