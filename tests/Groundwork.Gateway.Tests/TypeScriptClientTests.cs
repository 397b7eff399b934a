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

    private static Task NpmAsync(params string[] arguments) =>
        Groundwork.Testing.Programs.RunAsync("npm", Folder, TimeSpan.FromMinutes(4), arguments);
}
