using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Serialization.Buffers;
using Orleans.Serialization.Invocation;

namespace Groundwork.Testing;

/// <summary>
/// Orleans message frames written byte by byte, for what no Orleans client would send: values nested 200,000 deep,
/// bodies of any size. It speaks Orleans 10.4's framing (a connection preamble, then frames of header and body
/// lengths, header, body) over a plain socket to a gateway.
/// </summary>
public sealed class RawFrames(IServiceProvider services) : IAsyncDisposable
{
    private const uint Request = 1u << 16;
    private const uint HasRequestContextData = 1u << 4;
    private readonly GrainId _sender = GrainId.Create("sys.client", Guid.NewGuid().ToString("N"));
    private TcpClient? _tcp;
    private NetworkStream? _stream;

    /// <summary>Opens a connection to the gateway on <paramref name="port"/> and sends the client preamble.</summary>
    public async Task ConnectAsync(int port, string clusterId = "groundwork")
    {
        _tcp = new TcpClient();
        await _tcp.ConnectAsync("127.0.0.1", port);
        _stream = _tcp.GetStream();
        var preamble = Preamble(clusterId);
        var length = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, preamble.Length);
        await _stream.WriteAsync(length);
        await _stream.WriteAsync(preamble);
        await ReadFrameAsync(preambleOnly: true, TimeSpan.FromSeconds(10)); // the silo's own preamble
    }

    /// <summary>Sends one request frame to <paramref name="target"/>, with one request-context entry and a body, both as given.</summary>
    public async Task SendAsync(GrainId target, byte[]? requestContextValue, byte[] body, long correlationId = 1)
    {
        var header = Header(target, requestContextValue, correlationId);
        var frame = new byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(frame, header.Length);
        BinaryPrimitives.WriteInt32LittleEndian(frame.AsSpan(4), body.Length);
        await _stream!.WriteAsync(frame);
        await _stream.WriteAsync(header);
        for (var offset = 0; offset < body.Length; offset += 1 << 20)
        {
            await _stream.WriteAsync(body.AsMemory(offset, Math.Min(1 << 20, body.Length - offset)));
        }
    }

    /// <summary>
    /// The exception of the next response frame, or null when the silo closed the connection instead (or sent
    /// nothing within <paramref name="timeout"/>: then <see cref="TimeoutException"/>).
    /// </summary>
    public async Task<Exception?> ReadErrorAsync(TimeSpan timeout)
    {
        var body = await ReadFrameAsync(preambleOnly: false, timeout);
        if (body is null)
        {
            return null;
        }

        var response = services.GetRequiredService<Serializer>().Deserialize<object>(body);
        return response is Response r ? r.Exception : throw new InvalidOperationException($"the silo answered with {response?.GetType().Name}");
    }

    /// <summary>A value of nested <c>List&lt;object&gt;</c>, <paramref name="depth"/> deep, serialized as Orleans writes an <c>object</c> field.</summary>
    public byte[] NestedValue(int depth)
    {
        object value = new List<object>();
        for (var i = 1; i < depth; i++)
        {
            value = new List<object> { value };
        }

        // Writing recurses once per level too: a thread with a large stack does what an attacker's own encoder would.
        byte[]? bytes = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                bytes = services.GetRequiredService<Serializer>().SerializeToArray<object>(value);
            }
            catch (Exception e)
            {
                failure = e;
            }
        }, 1024 * 1024 * 1024);
        thread.Start();
        thread.Join();
        return bytes ?? throw new InvalidOperationException("could not encode the nested value", failure);
    }

    /// <summary>A body that is one string field of <paramref name="bytes"/> bytes.</summary>
    public byte[] StringBody(int bytes) => services.GetRequiredService<Serializer>().SerializeToArray<object>(new string('x', bytes));

    private byte[] Header(GrainId target, byte[]? requestContextValue, long correlationId)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = Writer.Create(buffer, null!);
        writer.WriteUInt32(Request | (requestContextValue is null ? 0 : HasRequestContextData));
        writer.WriteInt64(correlationId);
        IdSpanCodec.WriteRaw(ref writer, _sender.Type.Value);
        IdSpanCodec.WriteRaw(ref writer, _sender.Key);
        IdSpanCodec.WriteRaw(ref writer, target.Type.Value);
        IdSpanCodec.WriteRaw(ref writer, target.Key);
        writer.WriteByte(1); // no sending silo
        writer.WriteByte(1); // no target silo
        if (requestContextValue is not null)
        {
            writer.WriteVarUInt32(1);
            var key = Encoding.UTF8.GetBytes("x");
            writer.WriteVarUInt32((uint)key.Length + 1);
            writer.Write(key);
            writer.Write(requestContextValue);
        }

        writer.Commit();
        return buffer.WrittenSpan.ToArray();
    }

    private byte[] Preamble(string clusterId)
    {
        var type = RawClient.FindType("Orleans.Runtime.Messaging.ConnectionPreamble");
        var preamble = Activator.CreateInstance(type, nonPublic: true)!;
        type.GetProperty("NodeIdentity")!.SetValue(preamble, _sender);
        type.GetProperty("ClusterId")!.SetValue(preamble, clusterId);
        var version = type.GetProperty("NetworkProtocolVersion")!;
        version.SetValue(preamble, Enum.GetValues(version.PropertyType).Cast<object>().Max());
        var serializer = services.GetRequiredService(typeof(Serializer<>).MakeGenericType(type));
        return (byte[])serializer.GetType().GetMethods()
            .Single(m => m.Name == "SerializeToArray" && m.GetParameters().Length == 1).Invoke(serializer, [preamble])!;
    }

    private async Task<byte[]?> ReadFrameAsync(bool preambleOnly, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            if (preambleOnly)
            {
                var length = await ReadExactlyAsync(4, cancel.Token);
                return length is null ? null : await ReadExactlyAsync(BinaryPrimitives.ReadInt32LittleEndian(length), cancel.Token);
            }

            var lengths = await ReadExactlyAsync(8, cancel.Token);
            if (lengths is null)
            {
                return null;
            }

            _ = await ReadExactlyAsync(BinaryPrimitives.ReadInt32LittleEndian(lengths), cancel.Token);
            return await ReadExactlyAsync(BinaryPrimitives.ReadInt32LittleEndian(lengths.AsSpan(4)), cancel.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"the silo sent nothing within {timeout}");
        }
    }

    private async Task<byte[]?> ReadExactlyAsync(int count, CancellationToken cancellationToken)
    {
        var bytes = new byte[count];
        try
        {
            await _stream!.ReadExactlyAsync(bytes, cancellationToken);
            return bytes;
        }
        catch (Exception e) when (e is EndOfStreamException or IOException)
        {
            return null;
        }
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        _tcp?.Dispose();
        return ValueTask.CompletedTask;
    }
}
