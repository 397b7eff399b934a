using Xunit;

namespace Groundwork.Gateway.Tests;

/// <summary>
/// The TypeScript client (<c>client/typescript</c>): its types are the ones openapi-typescript generates from the
/// golden OpenAPI document, the module with its compile-time checks (<c>test/types.ts</c>) passes <c>tsc</c>, and the
/// web product's modules served by the gateway are tsc's output of their sources.
/// </summary>
public sealed class TypeScriptClientTests
{
    private static readonly string Folder = Path.Combine(Groundwork.Testing.Repository.Root, "client", "typescript");

    // npm ci once for the class: it empties node_modules first, so the tests must not run it under each other.
    private static readonly Lazy<Task> Installed = new(() => NpmAsync("ci", "--no-audit", "--no-fund"));

    [Fact]
    public async Task The_generated_types_are_current_and_the_client_compiles_with_tsc()
    {
        await Installed.Value;
        var fresh = Path.Combine(Path.GetTempPath(), $"groundwork-schema-{Guid.NewGuid():n}.d.ts");
        try
        {
            await NpmAsync("exec", "--", "openapi-typescript", Path.Combine("..", "Groundwork.Gateway", "OpenApi", "v1.json"), "--default-non-nullable", "false", "--output", fresh);
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

    [Fact]
    public async Task The_web_products_modules_are_what_tsc_makes_of_their_sources()
    {
        await Installed.Value;
        var fresh = Path.Combine(Path.GetTempPath(), $"groundwork-web-{Guid.NewGuid():n}");
        try
        {
            await NpmAsync("exec", "--", "tsc", "-p", "tsconfig.web.json", "--outDir", fresh);
            var committed = Path.Combine(Groundwork.Testing.Repository.Root, "client", "Groundwork.Gateway", "Web", "js");
            string[] Files(string root) => [.. Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(root, f)).Order(StringComparer.Ordinal)];
            Assert.Equal(Files(fresh), Files(committed));
            foreach (var file in Files(fresh))
            {
                Assert.True(await File.ReadAllTextAsync(Path.Combine(fresh, file)) == await File.ReadAllTextAsync(Path.Combine(committed, file)),
                    $"client/Groundwork.Gateway/Web/js/{file} is not what tsc makes of client/typescript: run 'npm run build:web' in client/typescript.");
            }
        }
        finally
        {
            if (Directory.Exists(fresh))
            {
                Directory.Delete(fresh, recursive: true);
            }
        }
    }

    private static Task NpmAsync(params string[] arguments) =>
        Groundwork.Testing.Programs.RunAsync("npm", Folder, TimeSpan.FromMinutes(4), arguments);
}
