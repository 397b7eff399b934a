using Xunit;

namespace Groundwork.Silo.Tests.Telemetry;

/// <summary>The names the dashboards rely on are pinned, so a rename upstream fails here instead of emptying a panel.</summary>
public sealed class GoldenNameTests
{
    [Fact]
    public void Every_metric_a_dashboard_queries_is_in_the_golden_list()
    {
        var golden = GoldenNames.Metrics.Select(g => g.Name).ToHashSet(StringComparer.Ordinal);
        var missing = DashboardFiles.Queries()
            .SelectMany(q => DashboardFiles.MetricNames(q.Expr).Where(name => name != "up" && !golden.Contains(name)).Select(name => $"{name} ({q.Dashboard} / {q.Panel})"))
            .Distinct()
            .ToList();
        Assert.True(missing.Count == 0, "metrics queried by dashboards but not in golden/metric-names.txt:\n" + string.Join("\n", missing));
    }

    [Fact]
    public void The_golden_list_names_only_metrics_some_dashboard_queries()
    {
        var used = DashboardFiles.Queries().SelectMany(q => DashboardFiles.MetricNames(q.Expr)).ToHashSet(StringComparer.Ordinal);
        var unused = GoldenNames.Metrics.Where(g => !used.Contains(g.Name)).Select(g => g.Name).ToList();
        Assert.True(unused.Count == 0, "golden metric names no dashboard queries (remove them, or they pin nothing):\n" + string.Join("\n", unused));
    }

    [Fact]
    public void Golden_metrics_that_appear_only_after_an_error_are_still_declared_by_orleans_or_groundwork()
    {
        var declared = GoldenNames.DeclaredInstruments();
        Assert.Contains("orleans_app_requests_latency", declared);
        var unknown = GoldenNames.Metrics.Where(g => g.OnEvent && !declared.Contains(GoldenNames.BaseName(g.Name))).Select(g => g.Name).ToList();
        Assert.True(unknown.Count == 0, "on-event golden metrics no longer declared by any instrument:\n" + string.Join("\n", unknown));
    }

    [Fact]
    public void Every_dashboard_panel_has_a_title_and_a_description()
    {
        var panels = DashboardFiles.Panels();
        Assert.NotEmpty(panels);
        var bare = panels.Where(p => p.Panel == "(untitled)" || string.IsNullOrWhiteSpace(p.Description)).Select(p => $"{p.Dashboard} / {p.Panel}").ToList();
        Assert.True(bare.Count == 0, "panels without a title or description:\n" + string.Join("\n", bare));
    }

    [Fact]
    public void Metric_names_are_read_out_of_promql_without_functions_labels_or_keywords()
    {
        var names = DashboardFiles.MetricNames(
            "histogram_quantile(0.99, sum by (le, grain_type) (rate(orleans_x_bucket{job=\"$job\",a!~\"sys[.].*\"}[$__rate_interval]))) / on(instance) group_left sum without (b) (y_total) or vector(0)");
        Assert.Equal(["orleans_x_bucket", "y_total"], names.Order(StringComparer.Ordinal));
    }
}

/// <summary>The golden names against a live silo under load.</summary>
[Collection(TelemetryCollection.Name)]
public sealed class LiveGoldenNameTests(TelemetrySiloFixture fixture)
{
    [Fact]
    public async Task Every_golden_metric_is_served_at_metrics_by_a_silo_under_load()
    {
        await fixture.WaitForLoadAsync(1, TimeSpan.FromSeconds(60));
        using var http = new HttpClient { BaseAddress = fixture.Silo.BaseAddress };
        var text = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        var served = text.Split('\n')
            .Where(line => line.Length > 0 && line[0] != '#')
            .Select(line => line.Split('{', ' ')[0])
            .ToHashSet(StringComparer.Ordinal);
        var missing = GoldenNames.Metrics.Where(g => !g.OnEvent && !served.Contains(g.Name)).Select(g => g.Name).ToList();
        Assert.True(missing.Count == 0, "golden metrics not served at /metrics:\n" + string.Join("\n", missing));
    }

    [Fact]
    public async Task Every_golden_span_name_is_exported_by_a_silo_under_load()
    {
        await fixture.WaitForLoadAsync(1, TimeSpan.FromSeconds(60));
        var golden = GoldenNames.Spans.Select(g => g.Name).ToList();
        Assert.NotEmpty(golden);
        var spans = await fixture.Otlp.WaitForSpansAsync(
            received => golden.All(name => received.Any(s => s.Service == "groundwork-silo" && s.Name == name)),
            TimeSpan.FromSeconds(30));
        Assert.Empty(fixture.Otlp.Errors);
        Assert.All(golden, name => Assert.Contains(spans, s => s.Name == name));
    }

    [Fact]
    public async Task The_open_metrics_endpoint_names_no_tenant_list_or_key()
    {
        await fixture.WaitForLoadAsync(1, TimeSpan.FromSeconds(60));
        using var http = new HttpClient { BaseAddress = fixture.Silo.BaseAddress };
        var text = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Assert.DoesNotContain(fixture.TenantId, text, StringComparison.Ordinal);
        // The gateway's route templates (http_route) name kinds, never a tenant's resources.
        Assert.DoesNotContain("/list/", text.Replace("{tenant}/list/{name}", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.DoesNotContain("gwk_", text, StringComparison.Ordinal);
        Assert.DoesNotContain("gwo_", text, StringComparison.Ordinal);
    }
}
