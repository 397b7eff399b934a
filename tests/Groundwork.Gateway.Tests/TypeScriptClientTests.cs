using System.Diagnostics;
using Xunit;

namespace Groundwork.Gateway.Tests;

/// <summary>
/// The TypeScript client (<c>client/typescript</c>): its types are the ones openapi-typescript generates from the
/// golden OpenAPI document, and the module with its compile-time checks (<c>test/types.ts</c>) passes <c>tsc</c>.
/// </summary>
public sealed class TypeScriptClientTests
{
    private static readonly string Folder = Path.Combine(Groundwork.Testing.Repository.Root, "client", "typescript");

    [Fact]
    public async Task The_generated_types_are_current_and_the_client_compiles_with_tsc()
    {
        await NpmAsync("ci", "--no-audit", "--no-fund");
        var fresh = Path.Combine(Path.GetTempPath(), $"groundwork-schema-{Guid.NewGuid():n}.d.ts");
        try
        {
            await NpmAsync("exec", "--", "openapi-typescript", Path.Combine("..", "Groundwork.Gateway", "OpenApi", "v1.json"), "--output", fresh);
            var committed = Path.Combine(Folder, "src", "schema.d.ts");
            Assert.True(await File.ReadAllTextAsync(fresh) == await File.ReadAllTextAsync(committed),
                $"client/typescript/src/schema.d.ts is not what openapi-typescript makes of the OpenAPI document: run 'npm run generate' in client/typescript.");
        }
        finally
        {
            File.Delete(fresh);
        }

        await NpmAsync("run", "check");
    }

    private static async Task NpmAsync(params string[] arguments)
    {
        var npm = Groundwork.Testing.Repository.FindProgram("npm", "/usr/bin/npm", "/usr/local/bin/npm")
            ?? throw new InvalidOperationException("npm is not installed: apt-get install nodejs npm (.ci/run installs them).");
        var info = new ProcessStartInfo(npm) { WorkingDirectory = Folder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"npm {string.Join(' ', arguments)} failed ({process.ExitCode}):\n{await output}\n{await errors}");
    }

}
