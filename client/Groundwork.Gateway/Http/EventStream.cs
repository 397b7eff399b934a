using System.Text;
using System.Text.Json;
using Groundwork.Gateway.Contract;
using Microsoft.AspNetCore.Http.Features;

namespace Groundwork.Gateway.Http;

/// <summary>
/// A stream method served as Server-Sent Events: each change is an <c>event: change</c> with <c>id:</c> its sequence
/// (so <c>Last-Event-ID</c> resumes after it), other items <c>event: item</c>; a comment line every heartbeat; after a
/// silo failover the stream reopens from the last sequence sent, so the client sees no gap and no repeat. An error
/// within the open window is an HTTP status; a later one is one <c>event: error</c> (or <c>event: resync</c>) and
/// the end of the stream.
/// </summary>
internal static class EventStream
{
    public static async Task ServeAsync(HttpContext context, GatewayOperation operation, object grain, object?[] arguments, HttpGatewayOptions options, string kind, string id)
    {
        var cancellation = context.RequestAborted;
        if (operation.CursorIndex >= 0 && context.Request.Headers["Last-Event-ID"] is { Count: 1 } last)
        {
            arguments[operation.CursorIndex] = long.TryParse(last[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var resume) && resume >= 0
                ? resume
                : throw new BindingException(Problem.InvalidRequest("Last-Event-ID", "must be a sequence number"));
        }

        var started = false;
        var reopens = 0;
        while (true)
        {
            var items = (IAsyncEnumerable<object>)operation.Invoke(grain, arguments)!;
            var enumerator = items.GetAsyncEnumerator(cancellation);
            try
            {
                var move = enumerator.MoveNextAsync().AsTask();
                if (!started)
                {
                    await Task.WhenAny(move, Task.Delay(options.StreamOpenWindow, cancellation));
                    if (move.IsFaulted)
                    {
                        await move; // an error at open is the answer's status (the caller maps it)
                    }

                    await StartAsync(context);
                    started = true;
                }

                while (true)
                {
                    while (!move.IsCompleted)
                    {
                        var beat = Task.Delay(options.HeartbeatInterval, cancellation);
                        if (await Task.WhenAny(move, beat) == beat)
                        {
                            await WriteAsync(context, ": heartbeat\n\n");
                        }
                    }

                    if (!await move)
                    {
                        return;
                    }

                    reopens = 0;
                    await WriteItemAsync(context, operation, enumerator.Current, arguments);
                    move = enumerator.MoveNextAsync().AsTask();
                }
            }
            catch (Exception exception) when (!cancellation.IsCancellationRequested && Groundwork.Client.ResourceFeed.IsTransient(exception) && reopens < options.MaxReopens)
            {
                // The grain moved, its silo went away or storage blinked: reopen from the cursor (the last sequence sent),
                // on the same failures as the .NET client's feeds.
                reopens++;
                await Task.Delay(ReopenDelay(reopens), cancellation);
            }
            catch (Exception exception) when (started && !cancellation.IsCancellationRequested)
            {
                var problem = ProblemMapper.From(exception, kind, id, ifMatch: false)
                    ?? new Problem(StatusCodes.Status500InternalServerError, "internal", "Internal error", "The stream met an unexpected error.");
                var name = problem.Code == "resync-required" ? "resync" : "error";
                await WriteAsync(context, $"event: {name}\ndata: {JsonSerializer.Serialize(problem.ToJson(), GatewayJson.Options)}\n\n");
                return;
            }
            finally
            {
                await DisposeQuietlyAsync(enumerator);
            }
        }
    }

    /// <summary>How long a feed waits before its <paramref name="reopens"/>th reopening in a row: 100 ms doubling to 2 s.</summary>
    internal static TimeSpan ReopenDelay(int reopens) => TimeSpan.FromMilliseconds(Math.Min(2000, 50 << Math.Min(reopens, 6)));

    private static async Task StartAsync(HttpContext context)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        await WriteAsync(context, "retry: 2000\n\n");
    }

    private static Task WriteItemAsync(HttpContext context, GatewayOperation operation, object item, object?[] arguments)
    {
        var json = JsonSerializer.Serialize(item, operation.ResultType!, GatewayJson.Options);
        if (item is IChange change)
        {
            if (operation.CursorIndex >= 0)
            {
                arguments[operation.CursorIndex] = change.Sequence;
            }

            return WriteAsync(context, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"id: {change.Sequence}\nevent: change\ndata: {json}\n\n"));
        }

        return WriteAsync(context, $"event: item\ndata: {json}\n\n");
    }

    private static async Task WriteAsync(HttpContext context, string text)
    {
        await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(text), context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }

    private static async Task DisposeQuietlyAsync(IAsyncEnumerator<object> enumerator)
    {
        try
        {
            await enumerator.DisposeAsync();
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // The grain side may already be gone (that is why the stream ended): nothing is left to release.
        }
    }
}
