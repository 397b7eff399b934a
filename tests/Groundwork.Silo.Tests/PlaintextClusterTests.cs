using Groundwork.Silo.Hosting;
using Microsoft.Extensions.Configuration;
using Xunit;

namespace Groundwork.Silo.Tests;

/// <summary>A clustered silo reachable from other hosts refuses to start without TLS, unless told the network is encrypted.</summary>
public sealed class PlaintextClusterTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("gw-plaintext-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    public static TheoryData<string?, string?, string?, string> Refused => new()
    {
        // advertised address, silo listening endpoint, gateway listening endpoint, what the line names
        { null, null, null, "the host's own address" },
        { "10.28.0.11", null, null, "10.28.0.11" },
        { "127.0.0.1", "0.0.0.0:11111", null, "0.0.0.0:11111" },
        { "127.0.0.1", null, "10.28.0.11:30000", "10.28.0.11:30000" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void A_clustered_silo_reachable_from_other_hosts_without_TLS_is_refused(string? advertised, string? siloListening, string? gatewayListening, string named)
    {
        var configuration = Cluster(advertised, siloListening, gatewayListening);
        var error = Assert.Throws<StartupSettingException>(() => StartupCheck.Run(SiloOptions.From(configuration), configuration));
        Assert.Contains($"reachable on {named}", error.Message, StringComparison.Ordinal);
        Assert.Contains("Groundwork:Tls:AllowPlaintext", error.Message, StringComparison.Ordinal);

        var allowed = Cluster(advertised, siloListening, gatewayListening, allowPlaintext: true);
        StartupCheck.Run(SiloOptions.From(allowed), allowed);
    }

    [Fact]
    public void A_clustered_silo_kept_on_loopback_needs_no_TLS()
    {
        var configuration = Cluster("127.0.0.1", "127.0.0.1:11111", null);
        StartupCheck.Run(SiloOptions.From(configuration), configuration);
    }

    private IConfiguration Cluster(string? advertised, string? siloListening, string? gatewayListening, bool allowPlaintext = false) =>
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Orleans:Clustering:ProviderType"] = "Redis",
            ["Orleans:Clustering:ConnectionString"] = "127.0.0.1:1",
            ["Orleans:Endpoints:AdvertisedIPAddress"] = advertised,
            ["Orleans:Endpoints:SiloListeningEndpoint"] = siloListening,
            ["Orleans:Endpoints:GatewayListeningEndpoint"] = gatewayListening,
            // Port 0 is not probed: these cases are about TLS, not about ports in use.
            ["Orleans:Endpoints:SiloPort"] = "0",
            ["Orleans:Endpoints:GatewayPort"] = "0",
            ["urls"] = "http://127.0.0.1:0",
            ["Groundwork:Storage:Path"] = Path.Combine(_folder, "groundwork.db"),
            ["Groundwork:Access:OperatorKey"] = "gwo_" + new string('a', 64),
            ["Groundwork:Tls:AllowPlaintext"] = allowPlaintext ? "true" : null,
        }).Build();
}
