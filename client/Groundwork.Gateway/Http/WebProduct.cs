using Microsoft.Extensions.FileProviders;

namespace Groundwork.Gateway.Http;

/// <summary>
/// The web product (docs/design/web.md): its page at <c>/</c>, and its styles and ES modules (compiled by tsc from
/// <c>client/typescript/web</c>, no bundler) under <c>/app/</c>, built into the gateway's assembly so every host of
/// the gateway serves the same files with no folder to deploy.
/// </summary>
internal static class WebProduct
{
    /// <summary>Where the product's files are served.</summary>
    public const string FilesPath = "/app";

    // Only the gateway's own scripts, styles and API: no inline script, no other origin, no framing.
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    /// <summary>Serves the page and its files.</summary>
    public static void Map(WebApplication app)
    {
        var files = new EmbeddedFileProvider(typeof(WebProduct).Assembly, "Groundwork.Gateway.Web");
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            RequestPath = FilesPath,
            OnPrepareResponse = served => Protect(served.Context.Response),
        });
        var page = files.GetFileInfo("index.html");
        if (!page.Exists)
        {
            throw new InvalidOperationException("the gateway was built without its web product (Web/index.html is not embedded)");
        }

        app.MapGet("/", async context =>
        {
            Protect(context.Response);
            context.Response.ContentType = "text/html; charset=utf-8";
            await using var content = page.CreateReadStream();
            await content.CopyToAsync(context.Response.Body, context.RequestAborted);
        }).WithName("web");
    }

    private static void Protect(HttpResponse response)
    {
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
        response.Headers.CacheControl = "no-cache"; // revalidated by ETag: a new gateway serves its new files at once
    }
}
