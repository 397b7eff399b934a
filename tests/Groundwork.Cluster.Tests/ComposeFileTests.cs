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
    public async Task The_gateway_service_joins_the_same_cluster_as_the_silos()
    {
        var compose = await ComposeFile.LoadAsync();
        var silo = compose.Silos[0].Environment;
        foreach (var key in new[] { "Orleans__ServiceId", "Orleans__ClusterId", "Orleans__Clustering__ProviderType", "Orleans__Clustering__ConnectionString", "Groundwork__Tls__CaPath" })
        {
            Assert.True(compose.Gateway.Environment.TryGetValue(key, out var value) && value == silo[key], $"the gateway's {key} differs from the silos'");
        }

        // Everything it sets that names something inside Docker is translated for the test process.
        Assert.Empty(compose.Gateway.Environment.Keys.Where(k => k.Contains("Tls", StringComparison.Ordinal) || k.Contains("Url", StringComparison.OrdinalIgnoreCase))
            .Except(ClusterHarness.TranslatedKeys));
    }

    [Theory]
    [InlineData("silo/Groundwork.Silo/Dockerfile", "silo/Groundwork.Silo/Groundwork.Silo.csproj")]
    [InlineData("client/Groundwork.Gateway/Dockerfile", "client/Groundwork.Gateway/Groundwork.Gateway.csproj")]
    public async Task Each_image_copies_every_project_its_program_references(string dockerfile, string project)
    {
        var text = await File.ReadAllTextAsync(Path.Combine(Repository.Root, dockerfile));
        foreach (var reference in ProjectClosure(Path.Combine(Repository.Root, project)))
        {
            var relative = Path.GetRelativePath(Repository.Root, reference).Replace('\\', '/');
            Assert.True(text.Contains($"COPY {relative} ", StringComparison.Ordinal), $"{dockerfile} does not copy {relative} before its restore");
            var folder = relative.Split('/')[0] + "/";
            Assert.True(text.Contains($"COPY {folder} {folder}", StringComparison.Ordinal), $"{dockerfile} does not copy the {folder} sources");
        }
    }

    private static HashSet<string> ProjectClosure(string project)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([Path.GetFullPath(project)]);
        while (pending.TryPop(out var next))
        {
            if (!seen.Add(next))
            {
                continue;
            }

            foreach (var reference in System.Xml.Linq.XDocument.Load(next).Descendants("ProjectReference"))
            {
                pending.Push(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(next)!, reference.Attribute("Include")!.Value.Replace('\\', '/'))));
            }
        }

        return seen;
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
