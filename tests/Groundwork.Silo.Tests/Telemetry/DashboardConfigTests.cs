using System.Text.Json;
using Xunit;
using YamlDotNet.Serialization;

namespace Groundwork.Silo.Tests.Telemetry;

/// <summary>
/// Grafana and the OpenTelemetry Collector cannot run on the test machine: their shipped files are parsed and
/// checked for the wiring the stack relies on (what Prometheus and the dashboards prove at run time is in
/// <see cref="PrometheusDashboardTests"/>).
/// </summary>
public sealed class DashboardConfigTests
{
    private static Dictionary<object, object> Yaml(params string[] path) =>
        new DeserializerBuilder().Build().Deserialize<Dictionary<object, object>>(File.ReadAllText(Path.Combine([DashboardFiles.Root, "dashboards", .. path])));

    private static IEnumerable<Dictionary<object, object>> List(object? value) =>
        (value as List<object> ?? []).Cast<Dictionary<object, object>>();

    private static Dictionary<object, object> Map(Dictionary<object, object> map, string key) =>
        map.TryGetValue(key, out var value) && value is Dictionary<object, object> inner ? inner : throw new InvalidOperationException($"'{key}' is missing");

    [Fact]
    public void Every_data_source_a_dashboard_names_is_provisioned_and_prometheus_is_the_compose_service()
    {
        var sources = List(Yaml("grafana", "provisioning", "datasources", "datasources.yaml")["datasources"]).ToList();
        var prometheus = Assert.Single(sources, s => (string)s["type"] == "prometheus");
        Assert.Equal("http://prometheus:9090", prometheus["url"]);
        Assert.Contains(sources, s => (string)s["type"] == "jaeger" && (string)s["url"] == "http://jaeger:16686");

        var provisioned = sources.Select(s => (string)s["uid"]).ToHashSet(StringComparer.Ordinal);
        foreach (var file in Directory.GetFiles(DashboardFiles.DashboardFolder, "*.json"))
        {
            using var json = JsonDocument.Parse(File.ReadAllText(file));
            var named = new List<string>();
            Collect(json.RootElement, named);
            var unknown = named.Where(uid => !uid.StartsWith("-- ", StringComparison.Ordinal) && !uid.StartsWith('$') && !provisioned.Contains(uid)).Distinct().ToList();
            Assert.True(unknown.Count == 0, $"{Path.GetFileName(file)} names data sources that are not provisioned: {string.Join(", ", unknown)}");
        }
    }

    private static void Collect(JsonElement element, List<string> uids)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (property.Name == "datasource" && property.Value.ValueKind == JsonValueKind.Object &&
                        property.Value.TryGetProperty("uid", out var uid) && uid.ValueKind == JsonValueKind.String)
                    {
                        uids.Add(uid.GetString()!);
                    }

                    Collect(property.Value, uids);
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    Collect(item, uids);
                }

                break;
            default:
                break;
        }
    }

    [Fact]
    public void Grafana_loads_the_dashboards_from_files()
    {
        var provider = Assert.Single(List(Yaml("grafana", "provisioning", "dashboards", "dashboards.yaml")["providers"]));
        Assert.Equal("file", provider["type"]);
        Assert.False(string.IsNullOrEmpty((string)Map(provider, "options")["path"]));
    }

    [Fact]
    public void Prometheus_scrapes_the_silos_directly_and_the_collector_for_client_metrics()
    {
        var jobs = List(Yaml("prometheus", "prometheus.yml")["scrape_configs"]).ToDictionary(j => (string)j["job_name"]);
        var silos = jobs[DashboardFiles.Job];
        Assert.Equal("/metrics", silos.GetValueOrDefault("metrics_path", "/metrics"));
        var targets = List(silos["static_configs"]).SelectMany(c => ((List<object>)c["targets"]).Cast<string>()).ToList();
        Assert.Equal(["silo1:8080", "silo2:8080", "silo3:8080"], targets);
        var collector = List(jobs["otel-collector"]["static_configs"]).SelectMany(c => ((List<object>)c["targets"]).Cast<string>());
        Assert.Equal("otel-collector:8889", Assert.Single(collector));
    }

    [Fact]
    public void The_collector_takes_otlp_and_sends_traces_to_jaeger_and_metrics_to_prometheus()
    {
        var config = Yaml("otel-collector", "config.yaml");
        var receivers = Map(config, "receivers");
        var exporters = Map(config, "exporters");
        var protocols = Map(Map(receivers, "otlp"), "protocols");
        Assert.EndsWith(":4317", (string)Map(protocols, "grpc")["endpoint"], StringComparison.Ordinal);
        Assert.EndsWith(":4318", (string)Map(protocols, "http")["endpoint"], StringComparison.Ordinal);

        var pipelines = Map(Map(config, "service"), "pipelines");
        foreach (var (name, value) in pipelines)
        {
            var pipeline = (Dictionary<object, object>)value;
            foreach (var (part, defined) in new[] { ("receivers", receivers), ("processors", Map(config, "processors")), ("exporters", exporters) })
            {
                foreach (var used in (pipeline.GetValueOrDefault(part) as List<object> ?? []).Cast<string>())
                {
                    Assert.True(defined.ContainsKey(used), $"pipeline {name} uses {part} '{used}', which is not defined");
                }
            }
        }

        var traces = ((List<object>)Map(pipelines, "traces")["exporters"]).Cast<string>().ToList();
        Assert.Contains(traces, e => e.StartsWith("otlp", StringComparison.Ordinal) && ((string)((Dictionary<object, object>)exporters[e])["endpoint"]).StartsWith("jaeger:4317", StringComparison.Ordinal));
        var metrics = ((List<object>)Map(pipelines, "metrics")["exporters"]).Cast<string>().ToList();
        Assert.Contains("prometheus", metrics);
        Assert.EndsWith(":8889", (string)Map(exporters, "prometheus")["endpoint"], StringComparison.Ordinal);
    }
}
