using System.Diagnostics;
using Groundwork.Testing;
using YamlDotNet.RepresentationModel;

namespace Groundwork.Cluster.Tests.Harness;

/// <summary>
/// docker-compose.yml as Debian's <c>docker-compose config</c> resolves it (anchors and merges applied): the
/// harness takes each silo service's environment and address from here, so tests and deployment cannot drift.
/// </summary>
public sealed class ComposeFile
{
    private ComposeFile(string resolvedYaml, IReadOnlyList<ComposeSilo> silos, ComposeSilo gateway)
    {
        ResolvedYaml = resolvedYaml;
        Silos = silos;
        Gateway = gateway;
    }

    /// <summary>The HTTP gateway service (<c>gateway</c>), run by the harness as the silos are.</summary>
    public ComposeSilo Gateway { get; }

    /// <summary>The resolved file, as <c>docker-compose config</c> printed it.</summary>
    public string ResolvedYaml { get; }

    /// <summary>The silo services (<c>silo1</c>, <c>silo2</c>, ...) in name order.</summary>
    public IReadOnlyList<ComposeSilo> Silos { get; }

    /// <summary>The repository's docker-compose.yml.</summary>
    public static string PathInRepository => Path.Combine(Repository.Root, "docker-compose.yml");

    /// <summary>Runs <c>docker-compose config</c> (arguments appended, e.g. <c>-q</c>); returns exit code and output.</summary>
    public static async Task<(int ExitCode, string Output, string Errors)> RunConfigAsync(params string[] arguments)
    {
        var executable = Tools.Find("docker-compose") ?? throw new InvalidOperationException(
            "docker-compose is not installed: run 'apt-get install -y docker-compose' (.ci/run installs it before the tests).");
        var info = new ProcessStartInfo(executable)
        {
            WorkingDirectory = Repository.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "-f", PathInRepository, "config" }.Concat(arguments))
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await errors);
    }

    /// <summary>Loads and resolves the compose file.</summary>
    public static async Task<ComposeFile> LoadAsync()
    {
        var (exit, output, errors) = await RunConfigAsync();
        if (exit != 0)
        {
            throw new InvalidOperationException($"docker-compose config failed ({exit}): {errors}");
        }

        var yaml = new YamlStream();
        yaml.Load(new StringReader(output));
        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        var services = (YamlMappingNode)root.Children[new YamlScalarNode("services")];
        var silos = new List<ComposeSilo>();
        ComposeSilo? gateway = null;
        foreach (var (nameNode, serviceNode) in services.Children)
        {
            var name = ((YamlScalarNode)nameNode).Value!;
            if (!name.StartsWith("silo", StringComparison.Ordinal) && name != "gateway")
            {
                continue;
            }

            var service = (YamlMappingNode)serviceNode;
            var environment = new Dictionary<string, string>(StringComparer.Ordinal);
            if (service.Children.TryGetValue(new YamlScalarNode("environment"), out var env))
            {
                foreach (var (key, value) in ((YamlMappingNode)env).Children)
                {
                    environment[((YamlScalarNode)key).Value!] = ((YamlScalarNode)value).Value ?? "";
                }
            }

            var address = "";
            if (service.Children.TryGetValue(new YamlScalarNode("networks"), out var networks) && networks is YamlMappingNode networkMap)
            {
                foreach (var (_, network) in networkMap.Children)
                {
                    if (network is YamlMappingNode settings && settings.Children.TryGetValue(new YamlScalarNode("ipv4_address"), out var ip))
                    {
                        address = ((YamlScalarNode)ip).Value!;
                    }
                }
            }

            if (name == "gateway")
            {
                gateway = new ComposeSilo(name, address, environment);
            }
            else
            {
                silos.Add(new ComposeSilo(name, address, environment));
            }
        }

        return new ComposeFile(output, silos.OrderBy(s => s.Name, StringComparer.Ordinal).ToList(),
            gateway ?? throw new InvalidOperationException("docker-compose.yml has no gateway service"));
    }
}

/// <summary>One Groundwork service of the compose file (a silo or the gateway): its name, its address on the compose network, its environment.</summary>
public sealed record ComposeSilo(string Name, string Address, IReadOnlyDictionary<string, string> Environment);

/// <summary>Programs the harness runs.</summary>
public static class Tools
{
    /// <summary>The full path of <paramref name="name"/> on PATH (or /usr/sbin, /usr/bin), or null.</summary>
    public static string? Find(string name) => Repository.FindProgram(name, $"/usr/sbin/{name}", $"/usr/bin/{name}");

    /// <summary>Runs a program to completion (at most 3 minutes); throws with its output when it fails.</summary>
    public static Task<string> RunAsync(string program, params string[] arguments) =>
        Programs.RunAsync(program, workingDirectory: null, TimeSpan.FromMinutes(3), arguments);
}
