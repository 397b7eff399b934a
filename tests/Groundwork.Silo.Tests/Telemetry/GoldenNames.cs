using System.Diagnostics.Metrics;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace Groundwork.Silo.Tests.Telemetry;

/// <summary>A checked-in name the dashboards rely on; <see cref="OnEvent"/> names appear only after their event (an error).</summary>
public sealed record GoldenName(string Name, bool OnEvent);

/// <summary>The golden lists under <c>Telemetry/golden/</c>.</summary>
public static class GoldenNames
{
    public static string Folder => Path.Combine(DashboardFiles.Root, "tests", "Groundwork.Silo.Tests", "Telemetry", "golden");

    /// <summary>Prometheus metric names (<c>metric-names.txt</c>).</summary>
    public static IReadOnlyList<GoldenName> Metrics => [.. Lines("metric-names.txt")
        .Select(line => line.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
        .Select(parts => new GoldenName(parts[0], parts.Skip(1).Contains("on-event")))];

    /// <summary>Span names the silo exports (<c>span-names.txt</c>, one whole line each: some contain spaces).</summary>
    public static IReadOnlyList<GoldenName> Spans => [.. Lines("span-names.txt").Select(line => new GoldenName(line, OnEvent: false))];

    private static IEnumerable<string> Lines(string file) =>
        File.ReadAllLines(Path.Combine(Folder, file))
            .Select(line => line.Split('#', 2)[0].Trim())
            .Where(line => line.Length > 0);

    /// <summary>
    /// The instrument names Orleans 10 declares (its <c>InstrumentNames</c> constants) and Groundwork's meter creates,
    /// each in Prometheus spelling without unit or type suffixes (<c>orleans-storage-read-errors</c> →
    /// <c>orleans_storage_read_errors</c>).
    /// </summary>
    public static IReadOnlySet<string> DeclaredInstruments()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var orleansCore = Assembly.Load("Orleans.Core");
        foreach (var type in orleansCore.GetTypes().Where(t => t.Name == "InstrumentNames"))
        {
            foreach (var field in type.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static).Where(f => f.IsLiteral && f.FieldType == typeof(string)))
            {
                names.Add(Normalize((string)field.GetRawConstantValue()!));
            }
        }

        // Groundwork's instruments are static fields: run their type initializers, then list what the meter published.
        var grains = typeof(Grains.Telemetry.GroundworkMetrics).Assembly;
        foreach (var type in grains.GetTypes().Where(t => t.Namespace == typeof(Grains.Telemetry.GroundworkMetrics).Namespace))
        {
            RuntimeHelpers.RunClassConstructor(type.TypeHandle);
        }

        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, _) =>
        {
            if (instrument.Meter.Name == GroundworkTelemetry.MeterName)
            {
                lock (names)
                {
                    names.Add(Normalize(instrument.Name));
                }
            }
        };
        listener.Start();
        return names;
    }

    /// <summary>A Prometheus series name without its type and unit suffixes.</summary>
    public static string BaseName(string prometheusName)
    {
        var name = prometheusName;
        foreach (var suffix in new[] { "_bucket", "_sum", "_count", "_total" })
        {
            if (name.EndsWith(suffix, StringComparison.Ordinal))
            {
                name = name[..^suffix.Length];
                break;
            }
        }

        foreach (var unit in new[] { "_milliseconds", "_seconds", "_megabytes", "_bytes" })
        {
            if (name.EndsWith(unit, StringComparison.Ordinal))
            {
                return name[..^unit.Length];
            }
        }

        return name;
    }

    private static string Normalize(string instrument) => instrument.Replace('-', '_').Replace('.', '_');
}
