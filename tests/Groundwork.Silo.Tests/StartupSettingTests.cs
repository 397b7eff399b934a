using System.Net;
using System.Net.Sockets;
using Groundwork.Testing;
using Xunit;

namespace Groundwork.Silo.Tests;

public sealed class StartupSettingTests
{
    private static async Task<string> FailingStartAsync(IReadOnlyDictionary<string, string>? environment = null, int? httpPort = null)
    {
        await using var silo = SiloProcess.Start(environment: environment, httpPort: httpPort);
        var exitCode = await silo.WaitForExitAsync(TimeSpan.FromSeconds(60));
        Assert.NotEqual(0, exitCode);
        var lines = silo.Errors.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return Assert.Single(lines);
    }

    [Fact]
    public async Task An_unknown_storage_kind_stops_the_silo_with_one_line_naming_the_setting()
    {
        var line = await FailingStartAsync(new Dictionary<string, string> { ["Groundwork__Storage__Kind"] = "Cassandra" });
        Assert.Contains("Groundwork:Storage:Kind 'Cassandra'", line, StringComparison.Ordinal);
        Assert.Contains("Sqlite", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unwritable_data_path_stops_the_silo_with_one_line_naming_the_setting()
    {
        var line = await FailingStartAsync(new Dictionary<string, string> { ["Groundwork__Storage__Path"] = "/proc/groundwork/data.db" });
        Assert.Contains("Groundwork:Storage:Path '/proc/groundwork/data.db' is not writable", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_port_in_use_stops_the_silo_with_one_line_naming_the_setting()
    {
        using var occupied = new TcpListener(IPAddress.Loopback, 0);
        occupied.Start();
        var port = ((IPEndPoint)occupied.LocalEndpoint).Port;
        var line = await FailingStartAsync(httpPort: port);
        Assert.Contains($"port {port}", line, StringComparison.Ordinal);
        Assert.Contains("already in use", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_malformed_operator_key_stops_the_silo_with_one_line_naming_the_setting()
    {
        var line = await FailingStartAsync(new Dictionary<string, string> { ["Groundwork__Access__OperatorKey"] = "secret" });
        Assert.Contains("Groundwork:Access:OperatorKey", line, StringComparison.Ordinal);
    }

    public static TheoryData<string, string, string> ClusterSettings => new()
    {
        // setting, value, what the one line must say (the other cluster keys below are valid)
        { "Groundwork__Access__OperatorKey", "", "needs one operator key shared by every silo" },
        { "Groundwork__Storage__ConnectionString", "", "Groundwork:Storage:ConnectionString is empty" },
        { "Orleans__Endpoints__AdvertisedIPAddress", "silo1.internal", "is not an IP address" },
        { "Groundwork__Tls__CertificatePath", "/nonexistent/node.pem", "Groundwork:Tls:CertificatePath '/nonexistent/node.pem' does not exist" },
        { "Groundwork__Tls__CaPath", "/nonexistent/ca.pem", "without Groundwork:Tls:CertificatePath" },
        { "Groundwork__Cluster__MissedProbesLimit", "0", "MissedProbesLimit at least 1" },
        { "Orleans__Endpoints__AdvertisedIPAddress", "10.28.0.11", "would be reachable on 10.28.0.11 without TLS" },
    };

    [Theory]
    [MemberData(nameof(ClusterSettings))]
    public async Task A_bad_cluster_setting_stops_the_silo_with_one_line_naming_it(string setting, string value, string expected)
    {
        var environment = new Dictionary<string, string>
        {
            ["Orleans__Clustering__ProviderType"] = "Redis",
            ["Orleans__Clustering__ConnectionString"] = "127.0.0.1:1",
            ["Groundwork__Storage__Kind"] = "Redis",
            ["Groundwork__Storage__ConnectionString"] = "127.0.0.1:1",
            ["Groundwork__Access__OperatorKey"] = "gwo_" + new string('a', 64),
            [setting] = value,
        };
        var line = await FailingStartAsync(environment);
        Assert.Contains(expected, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_trace_sample_ratio_outside_0_to_1_stops_the_silo_with_one_line_naming_the_setting()
    {
        var line = await FailingStartAsync(new Dictionary<string, string> { ["Groundwork__Telemetry__TraceSampleRatio"] = "1.5" });
        Assert.Contains("Groundwork:Telemetry:TraceSampleRatio '1.5'", line, StringComparison.Ordinal);
        Assert.Contains("0 to 1", line, StringComparison.Ordinal);
    }
}
