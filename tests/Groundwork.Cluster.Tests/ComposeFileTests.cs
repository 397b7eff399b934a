using Xunit;
using Groundwork.Cluster.Tests.Harness;
using Groundwork.Testing;

namespace Groundwork.Cluster.Tests;

/// <summary>docker-compose.yml validates, and describes what the harness runs.</summary>
public sealed class ComposeFileTests
{
    [Fact]
    public async Task Compose_file_validates_with_docker_compose_config()
    {
        var (exit, _, errors) = await ComposeFile.RunConfigAsync("-q");
        Assert.True(exit == 0, $"docker-compose config -q failed: {errors}");
    }

    [Fact]
    public async Task Compose_file_has_three_silos_on_redis_with_tls_each_advertising_its_own_address()
    {
        var compose = await ComposeFile.LoadAsync();
        Assert.Equal(["silo1", "silo2", "silo3"], compose.Silos.Select(s => s.Name));
        Assert.Equal(3, compose.Silos.Select(s => s.Address).Distinct().Count());
        foreach (var silo in compose.Silos)
        {
            Assert.Equal(silo.Address, silo.Environment["Orleans__Endpoints__AdvertisedIPAddress"]);
            Assert.Equal("Redis", silo.Environment["Orleans__Clustering__ProviderType"]);
            Assert.Equal("Redis", silo.Environment["Groundwork__Storage__Kind"]);
            Assert.False(string.IsNullOrEmpty(silo.Environment["Groundwork__Tls__CertificatePath"]));
            Assert.False(string.IsNullOrEmpty(silo.Environment["Groundwork__Access__OperatorKeyFile"]));
        }

        // The telemetry services are there, and Redis promises durability.
        Assert.Contains("appendfsync", compose.ResolvedYaml, StringComparison.Ordinal);
        foreach (var service in new[] { "redis:", "otel-collector:", "prometheus:", "grafana:", "jaeger:" })
        {
            Assert.Contains("  " + service, compose.ResolvedYaml, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Every_compose_setting_is_passed_to_the_test_silos_as_written_or_translated_on_purpose()
    {
        var compose = await ComposeFile.LoadAsync();
        var keys = compose.Silos.SelectMany(s => s.Environment.Keys).ToHashSet(StringComparer.Ordinal);

        // A translation for a key the compose file no longer has is a drift too.
        Assert.Empty(ClusterHarness.TranslatedKeys.Except(keys));
        Assert.Contains("Groundwork__Cluster__ProbeTimeout", keys);
    }

    [Fact]
    public async Task Every_configuration_file_the_compose_file_mounts_from_the_repository_exists()
    {
        var compose = await ComposeFile.LoadAsync();
        var dashboards = Path.Combine(Repository.Root, "dashboards") + Path.DirectorySeparatorChar;
        var mounted = compose.ResolvedYaml.Split('\n')
            .Select(line => line.Trim())
            .Where(line => line.StartsWith("- " + dashboards, StringComparison.Ordinal))
            .Select(line => line[2..].Split(':')[0])
            .ToList();

        Assert.Equal(4, mounted.Count); // Grafana provisioning and dashboards, the collector and Prometheus configuration
        Assert.All(mounted, path => Assert.True(File.Exists(path) || Directory.Exists(path), $"{path} is mounted but missing"));
        Assert.True(File.Exists(Path.Combine(Repository.Root, "silo", "Groundwork.Silo", "Dockerfile")));
    }
}
