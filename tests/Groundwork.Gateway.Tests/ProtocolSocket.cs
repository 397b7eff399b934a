using System.IO.Pipelines;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Groundwork.Gateway.Tests;

/// <summary>A client of the <c>groundwork.v1</c> WebSocket protocol, for tests: JSON messages in, JSON messages out.</summary>
public sealed class ProtocolSocket(WebSocket socket) : IAsyncDisposable
{
    /// <summary>The socket.</summary>
    public WebSocket Socket { get; } = socket;

    /// <summary>Sends one message (serialized as JSON).</summary>
    public Task SendAsync(object message) => SendTextAsync(JsonSerializer.Serialize(message));

    /// <summary>Sends one text frame as it is.</summary>
    public Task SendTextAsync(string text) =>
        Socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);

    /// <summary>The next message other than a heartbeat, or null when the socket closed; fails after <paramref name="timeout"/>.</summary>
    public async Task<JsonElement?> NextAsync(TimeSpan timeout, bool heartbeats = false)
    {
        using var cancel = new CancellationTokenSource(timeout);
        var buffer = new byte[64 * 1024];
        while (true)
        {
            using var message = new MemoryStream();
            WebSocketReceiveResult received;
            do
            {
                received = await Socket.ReceiveAsync(buffer, cancel.Token);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    return null;
                }

                message.Write(buffer, 0, received.Count);
            }
            while (!received.EndOfMessage);

            var json = JsonDocument.Parse(message.ToArray()).RootElement.Clone();
            if (heartbeats || json.GetProperty("type").GetString() != "heartbeat")
            {
                return json;
            }
        }
    }

    /// <summary>The next message of <paramref name="type"/> for <paramref name="id"/>, skipping others.</summary>
    public async Task<JsonElement> NextAsync(string type, string id, TimeSpan timeout)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            var next = await NextAsync(timeout - clock.Elapsed) ?? throw new InvalidOperationException($"closed while waiting for {type} {id}: {Socket.CloseStatus} {Socket.CloseStatusDescription}");
            if (next.GetProperty("type").GetString() == type && next.TryGetProperty("id", out var got) && got.GetString() == id)
            {
                return next;
            }

            if (next.GetProperty("type").GetString() == "error" && next.TryGetProperty("id", out var failed) && failed.GetString() == id)
            {
                throw new InvalidOperationException($"error for {id} while waiting for {type}: {next}");
            }
        }

        throw new TimeoutException($"no {type} for {id} within {timeout}");
    }

    /// <summary>Reads until the gateway closes; returns its close status.</summary>
    public async Task<WebSocketCloseStatus?> ClosedAsync(TimeSpan timeout)
    {
        while (await NextAsync(timeout, heartbeats: true) is not null)
        {
        }

        if (Socket.State == WebSocketState.CloseReceived)
        {
            await Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None); // the close handshake
        }

        return Socket.CloseStatus;
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        Socket.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Two ends of a WebSocket over in-memory pipes that hold at most <paramref name="bufferBytes"/> unread bytes each
    /// way, so a client that stops reading holds the server back as a slow network would.
    /// </summary>
    public static (WebSocket Server, WebSocket Client) Pair(int bufferBytes)
    {
        var options = new PipeOptions(pauseWriterThreshold: bufferBytes, resumeWriterThreshold: bufferBytes / 2);
        var toClient = new Pipe(options);
        var toServer = new Pipe(options);
        var server = WebSocket.CreateFromStream(new Duplex(toServer.Reader, toClient.Writer), new WebSocketCreationOptions { IsServer = true, SubProtocol = "groundwork.v1" });
        var client = WebSocket.CreateFromStream(new Duplex(toClient.Reader, toServer.Writer), new WebSocketCreationOptions { IsServer = false, SubProtocol = "groundwork.v1" });
        return (server, client);
    }

    private sealed class Duplex(PipeReader reader, PipeWriter writer) : Stream
    {
        private readonly Stream _read = reader.AsStream();
        private readonly Stream _write = writer.AsStream();

        public override bool CanRead => true;

        public override bool CanWrite => true;

        public override bool CanSeek => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _read.ReadAsync(buffer, cancellationToken);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => _write.WriteAsync(buffer, cancellationToken);

        public override Task FlushAsync(CancellationToken cancellationToken) => _write.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => _read.Read(buffer, offset, count);

        public override void Write(byte[] buffer, int offset, int count) => _write.Write(buffer, offset, count);

        public override void Flush() => _write.Flush();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                reader.CancelPendingRead();
                reader.Complete();
                writer.Complete();
            }

            base.Dispose(disposing);
        }
    }
}
