using System.Text.Json;
using System.Text.RegularExpressions;
using Groundwork.Testing;

namespace Groundwork.Silo.Tests.Telemetry;

/// <summary>One query of one panel of one shipped Grafana dashboard.</summary>
public sealed record PanelQuery(string Dashboard, string Panel, string? Description, string Expr)
{
    public override string ToString() => $"{Dashboard} / {Panel}: {Expr}";
}

/// <summary>The shipped dashboards (<c>dashboards/grafana/dashboards/*.json</c>) and what their queries use.</summary>
public static partial class DashboardFiles
{
    /// <summary>The job every dashboard's <c>$job</c> variable selects: the silos' scrape job.</summary>
    public const string Job = "groundwork";

    public static string Root => Repository.Root;

    public static string DashboardFolder => Path.Combine(Root, "dashboards", "grafana", "dashboards");

    public static string PrometheusConfig => Path.Combine(Root, "dashboards", "prometheus", "prometheus.yml");

    /// <summary>Every panel query of every dashboard; fails when there is no dashboard at all.</summary>
    public static IReadOnlyList<PanelQuery> Queries()
    {
        var files = Directory.Exists(DashboardFolder) ? Directory.GetFiles(DashboardFolder, "*.json").Order(StringComparer.Ordinal).ToArray() : [];
        if (files.Length == 0)
        {
            throw new InvalidOperationException($"no Grafana dashboard in {DashboardFolder}");
        }

        var queries = new List<PanelQuery>();
        foreach (var file in files)
        {
            using var json = JsonDocument.Parse(File.ReadAllText(file));
            var title = json.RootElement.TryGetProperty("title", out var t) ? t.GetString() ?? Path.GetFileName(file) : Path.GetFileName(file);
            if (json.RootElement.TryGetProperty("panels", out var panels))
            {
                Collect(title, panels, queries);
            }
        }

        return queries;
    }

    /// <summary>Every panel (rows included, as they hold panels) that is not a row, with its description.</summary>
    public static IReadOnlyList<(string Dashboard, string Panel, string? Description, string Type)> Panels()
    {
        var result = new List<(string, string, string?, string)>();
        foreach (var file in Directory.GetFiles(DashboardFolder, "*.json").Order(StringComparer.Ordinal))
        {
            using var json = JsonDocument.Parse(File.ReadAllText(file));
            var title = json.RootElement.GetProperty("title").GetString()!;
            void Walk(JsonElement panels)
            {
                foreach (var panel in panels.EnumerateArray())
                {
                    var type = panel.TryGetProperty("type", out var ty) ? ty.GetString() ?? "" : "";
                    if (type == "row")
                    {
                        if (panel.TryGetProperty("panels", out var inner))
                        {
                            Walk(inner);
                        }

                        continue;
                    }

                    result.Add((title, Text(panel, "title") ?? "(untitled)", Text(panel, "description"), type));
                }
            }

            if (json.RootElement.TryGetProperty("panels", out var panels))
            {
                Walk(panels);
            }
        }

        return result;
    }

    private static void Collect(string dashboard, JsonElement panels, List<PanelQuery> queries)
    {
        foreach (var panel in panels.EnumerateArray())
        {
            if (panel.TryGetProperty("panels", out var inner))
            {
                Collect(dashboard, inner, queries);
            }

            if (!panel.TryGetProperty("targets", out var targets))
            {
                continue;
            }

            foreach (var target in targets.EnumerateArray())
            {
                if (Text(target, "expr") is { Length: > 0 } expr)
                {
                    queries.Add(new PanelQuery(dashboard, Text(panel, "title") ?? "(untitled)", Text(panel, "description"), expr));
                }
            }
        }
    }

    private static string? Text(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>
    /// The expression as Prometheus gets it from Grafana: <c>$job</c> is the silos' job, <c>$__rate_interval</c> and
    /// <c>$__interval</c> a minute (at least four scrapes of the test's one-second interval), <c>$__range</c> five minutes.
    /// </summary>
    public static string Substitute(string expr) => expr
        .Replace("${job}", Job, StringComparison.Ordinal)
        .Replace("$job", Job, StringComparison.Ordinal)
        .Replace("${__rate_interval}", "1m", StringComparison.Ordinal)
        .Replace("$__rate_interval", "1m", StringComparison.Ordinal)
        .Replace("${__interval}", "1m", StringComparison.Ordinal)
        .Replace("$__interval", "1m", StringComparison.Ordinal)
        .Replace("${__range}", "5m", StringComparison.Ordinal)
        .Replace("$__range", "5m", StringComparison.Ordinal);

    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset",
        "inf", "nan", "Inf", "NaN", "atan2",
    };

    /// <summary>
    /// The metric names an expression reads (roughly: identifiers outside strings, label matchers, ranges and
    /// grouping clauses that are neither functions nor keywords).
    /// </summary>
    public static IReadOnlySet<string> MetricNames(string expr)
    {
        var text = Substitute(expr);
        text = Strings().Replace(text, " ");
        text = Braces().Replace(text, " ");
        text = Brackets().Replace(text, " ");
        text = Grouping().Replace(text, " ");
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match match in Identifier().Matches(text))
        {
            var rest = text[(match.Index + match.Length)..].TrimStart();
            if (rest.StartsWith('(') || Keywords.Contains(match.Value))
            {
                continue;
            }

            names.Add(match.Value);
        }

        return names;
    }

    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'")]
    private static partial Regex Strings();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex Braces();

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex Brackets();

    [GeneratedRegex(@"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")]
    private static partial Regex Grouping();

    [GeneratedRegex(@"(?<![\w.])[A-Za-z_:][A-Za-z0-9_:]*")]
    private static partial Regex Identifier();
}
