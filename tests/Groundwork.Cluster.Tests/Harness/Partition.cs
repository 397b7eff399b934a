using System.Globalization;

namespace Groundwork.Cluster.Tests.Harness;

/// <summary>
/// Cuts one silo off from the others with iptables, by the silos' user ids and silo port (on loopback every
/// connection's source is 127.0.0.1, so addresses alone cannot tell the silos' own traffic apart). Clients and
/// Redis stay reachable for everyone. The rules live in their own chain, removed by <see cref="HealAllAsync"/>.
/// </summary>
public static class Partition
{
    private const string Chain = "GROUNDWORK-TEST";

    /// <summary>Drops every silo-to-silo packet between <paramref name="isolated"/> and <paramref name="others"/>, both ways.</summary>
    public static async Task CutAsync(ClusterSilo isolated, IEnumerable<ClusterSilo> others, int siloPort)
    {
        ArgumentNullException.ThrowIfNull(isolated);
        ArgumentNullException.ThrowIfNull(others);
        await EnsureChainAsync();
        var port = siloPort.ToString(CultureInfo.InvariantCulture);
        foreach (var other in others)
        {
            await IptablesAsync("-A", Chain, "-o", "lo", "-p", "tcp", "-m", "owner", "--uid-owner", Uid(isolated),
                "-d", other.Address.ToString(), "--dport", port, "-j", "DROP");
            await IptablesAsync("-A", Chain, "-o", "lo", "-p", "tcp", "-m", "owner", "--uid-owner", Uid(other),
                "-d", isolated.Address.ToString(), "--dport", port, "-j", "DROP");
        }
    }

    /// <summary>Removes every rule the tests added.</summary>
    public static async Task HealAllAsync()
    {
        if (Tools.Find("iptables") is null)
        {
            return;
        }

        try
        {
            await IptablesAsync("-F", Chain);
        }
        catch (InvalidOperationException)
        {
            // No chain: nothing to heal.
        }
    }

    private static async Task EnsureChainAsync()
    {
        try
        {
            await IptablesAsync("-N", Chain);
        }
        catch (InvalidOperationException exception) when (exception.Message.Contains("exists", StringComparison.OrdinalIgnoreCase))
        {
            // Made by an earlier test.
        }

        try
        {
            await IptablesAsync("-C", "OUTPUT", "-j", Chain);
        }
        catch (InvalidOperationException)
        {
            await IptablesAsync("-I", "OUTPUT", "1", "-j", Chain);
        }
    }

    private static string Uid(ClusterSilo silo) => silo.UserId.ToString(CultureInfo.InvariantCulture);

    private static Task<string> IptablesAsync(params string[] arguments)
    {
        if (Tools.Find("iptables") is null)
        {
            throw new InvalidOperationException("iptables is not installed: run 'apt-get install -y iptables' (.ci/run installs it before the tests).");
        }

        return Tools.RunAsync("iptables", ["-w", .. arguments]);
    }
}
