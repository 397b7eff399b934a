using System.Text;

namespace Groundwork.Gateway.Tests;

/// <summary>One Server-Sent Event as read off the wire: its fields, or a comment line.</summary>
internal sealed record SseEvent(string? Id, string? Event, string? Data, string? Comment, string? Retry);

/// <summary>Reads an event stream as a browser's EventSource would: fields up to a blank line, comments kept.</summary>
internal sealed class SseReader(Stream stream) : IAsyncDisposable
{
    private readonly StreamReader _reader = new(stream, Encoding.UTF8);

    /// <summary>The next event or comment, or null at the end of the stream; fails after <paramref name="timeout"/>.</summary>
    public async Task<SseEvent?> NextAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        string? id = null, name = null, retry = null;
        StringBuilder? data = null;
        var any = false;
        while (true)
        {
            var line = await _reader.ReadLineAsync(cancellation.Token);
            if (line is null)
            {
                return any ? new SseEvent(id, name, data?.ToString(), null, retry) : null;
            }

            if (line.Length == 0)
            {
                if (any)
                {
                    return new SseEvent(id, name, data?.ToString(), null, retry);
                }

                continue;
            }

            if (line[0] == ':')
            {
                return new SseEvent(null, null, null, line[1..].Trim(), null);
            }

            any = true;
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..].TrimStart(' ');
            switch (field)
            {
                case "id": id = value; break;
                case "event": name = value; break;
                case "retry": retry = value; break;
                case "data": data = data is null ? new StringBuilder(value) : data.Append('\n').Append(value); break;
                default: break;
            }
        }
    }

    /// <summary>The next event that is not a comment.</summary>
    public async Task<SseEvent?> NextEventAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var next = await NextAsync(deadline - DateTime.UtcNow);
            if (next is null || next.Comment is null)
            {
                return next;
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        return ValueTask.CompletedTask;
    }
}
