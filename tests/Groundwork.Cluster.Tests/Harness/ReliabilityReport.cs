using Groundwork.Testing;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Groundwork.Cluster.Tests.Harness;

/// <summary>
/// The figures the fault tests measure, printed to the test output and written to
/// <c>TestResults/reliability.md</c> with the machine they came from (docs/reliability.md records a run).
/// </summary>
public static class ReliabilityReport
{
    private static readonly Lock Gate = new();
    private static readonly List<string> Rows = [];

    /// <summary>Records one scenario's figures and rewrites the report file; returns the row.</summary>
    public static string Record(string scenario, WriteLoad load, int writesChecked, string extra)
    {
        ArgumentNullException.ThrowIfNull(load);
        var row = string.Create(CultureInfo.InvariantCulture,
            $"| {scenario} | {extra} | {writesChecked} | {load.Attempts} | {WriteLoad.Describe(load.Errors)} | {load.LongestFailedCallSeconds:0.00} s | {load.FailedRequests} |");
        lock (Gate)
        {
            Rows.Add(row);
            var text = new StringBuilder()
                .AppendLine("# Cluster fault tests: figures of one run")
                .AppendLine()
                .AppendLine(CultureInfo.InvariantCulture, $"Run {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC on {Machine()}.")
                .AppendLine()
                .AppendLine("| Scenario | Measured | Acknowledged writes checked | Attempts | Errors seen (retried) | Longest failed call | Failed requests |")
                .AppendLine("|---|---|---|---|---|---|---|");
            foreach (var r in Rows)
            {
                text.AppendLine(r);
            }

            var folder = Path.Combine(Repository.Root, "TestResults");
            Directory.CreateDirectory(folder);
            File.WriteAllText(Path.Combine(folder, "reliability.md"), text.ToString());
        }

        return row;
    }

    /// <summary>CPU model, cores, memory, OS and .NET version.</summary>
    public static string Machine()
    {
        var cpu = "unknown CPU";
        var memory = "";
        try
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? cpu;
            var kb = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
            memory = string.Create(CultureInfo.InvariantCulture, $", {long.Parse(kb, CultureInfo.InvariantCulture) / 1024.0 / 1024.0:0.0} GiB");
        }
        catch (IOException)
        {
            // Not Linux: the rest still says enough.
        }

        return $"{cpu}, {Environment.ProcessorCount} cores{memory}, {RuntimeInformation.OSDescription}, .NET {Environment.Version}";
    }
}
