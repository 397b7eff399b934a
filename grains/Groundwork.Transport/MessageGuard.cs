using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.Metrics;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Orleans.Metadata;
using Orleans.Serialization;

namespace Groundwork.Transport;

/// <summary>
/// Connection middleware in front of Orleans on every gateway connection (and on the silo port where it is not
/// protected by mutual TLS): it reads each message frame from the client, checks it with <see cref="MessageScanner"/>
/// and only then hands it to Orleans. Nothing from a client is deserialized before it is checked, so one message
/// cannot exhaust a thread's stack or make the silo buffer a 90 MiB body.
/// </summary>
/// <remarks>
/// A body over <see cref="MessageLimits"/> is skipped as it streams in (never held whole) and replaced by a
/// <see cref="RefusedBody"/>, which Orleans answers with the typed error at once. A header over the limits, or
/// bytes that are not Orleans frames, end the connection. Counted in <c>groundwork.messages.refused{reason}</c>.
/// </remarks>
internal sealed partial class MessageGuard(MessageLimits limits, Serializer serializer, MessageGuard.InterfaceCheck? interfaces, ILogger<MessageGuard> logger)
{
    private const int MaxPreambleBytes = 1024; // Orleans' own limit for the connection preamble
    private static readonly Meter Meter = new("Groundwork");
    private static readonly Counter<long> Refused = Meter.CreateCounter<long>("groundwork.messages.refused", "{message}",
        "Messages from clients refused before Orleans read them, by reason (body-size, body-shape, header).");

    /// <summary>Runs one connection through the guard.</summary>
    public async Task OnConnectionAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        var transport = connection.Transport;
        var window = (long)limits.MaxHeaderBytes + limits.MaxBodyBytes + 8;
        var checkedInput = new Pipe(new PipeOptions(
            pauseWriterThreshold: 2 * window + 65536,
            resumeWriterThreshold: window + 32768,
            readerScheduler: PipeScheduler.Inline,
            writerScheduler: PipeScheduler.Inline,
            useSynchronizationContext: false));
        connection.Transport = new GuardedPipe(checkedInput.Reader, transport.Output);
        var pump = PumpAsync(transport.Input, checkedInput.Writer, connection.RemoteEndPoint?.ToString());
        try
        {
            await next(connection);
        }
        finally
        {
            connection.Transport = transport;
            transport.Input.CancelPendingRead();
            await checkedInput.Reader.CompleteAsync();
            await pump;
        }
    }

    private async Task PumpAsync(PipeReader input, PipeWriter output, string? remote)
    {
        await Task.Yield();
        Exception? error = null;
        var state = new State();
        try
        {
            while (true)
            {
                var result = await input.ReadAsync();
                var buffer = result.Buffer;
                string? fatal;
                try
                {
                    fatal = Process(ref buffer, output, state);
                }
                finally
                {
                    input.AdvanceTo(buffer.Start, buffer.End);
                }

                if (fatal is not null)
                {
                    Refused.Add(1, new KeyValuePair<string, object?>("reason", "header"));
                    LogClosed(logger, remote ?? "?", fatal);
                    error = new InvalidDataException($"Groundwork refused a message: {fatal}");
                    break;
                }

                var flush = await output.FlushAsync();
                if (flush.IsCompleted || flush.IsCanceled || result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception exception)
        {
            error = exception;
        }
        finally
        {
            await output.CompleteAsync(error);
            await input.CompleteAsync();
        }
    }

    /// <summary>Passes on every complete frame in <paramref name="buffer"/>; null, or why the connection must end.</summary>
    private string? Process(ref ReadOnlySequence<byte> buffer, PipeWriter output, State state)
    {
        while (true)
        {
            if (state.SkipRemaining > 0)
            {
                var skip = Math.Min(buffer.Length, state.SkipRemaining);
                buffer = buffer.Slice(skip);
                state.SkipRemaining -= skip;
                if (state.SkipRemaining > 0)
                {
                    return null;
                }

                output.Write(state.Replacement!);
                state.Replacement = null;
            }

            if (!state.PreambleSeen)
            {
                if (buffer.Length < 4)
                {
                    return null;
                }

                var length = ReadInt32(buffer);
                if (length is <= 0 or > MaxPreambleBytes)
                {
                    return $"a connection preamble of {length} bytes";
                }

                if (buffer.Length < 4 + length)
                {
                    return null;
                }

                Copy(buffer.Slice(0, 4 + length), output);
                buffer = buffer.Slice(4 + length);
                state.PreambleSeen = true;
                continue;
            }

            if (buffer.Length < 8)
            {
                return null;
            }

            var headerLength = ReadInt32(buffer);
            var bodyLength = ReadInt32(buffer.Slice(4));
            if (headerLength <= 0 || headerLength > limits.MaxHeaderBytes)
            {
                return $"a message header of {headerLength} bytes; the limit is {limits.MaxHeaderBytes} ({MessageLimits.SectionName}:MaxHeaderBytes)";
            }

            if (bodyLength < 0)
            {
                return $"a body length of {bodyLength}";
            }

            if (buffer.Length < 8 + headerLength)
            {
                return null;
            }

            var header = buffer.Slice(8, headerLength);
            if (MessageScanner.CheckHeader(header, limits, out var targetType, out var interfaceType) is { } headerProblem)
            {
                return headerProblem;
            }

            // A call of an interface the target grain does not implement would fail inside Orleans with its own
            // InvalidCastException (and stack) before any filter runs: answer it here, typed.
            var mismatch = interfaces?.Check(targetType, interfaceType);

            if (bodyLength > limits.MaxBodyBytes)
            {
                // Skip the body as it arrives, then let Orleans answer the caller with the refusal.
                Refused.Add(1, new KeyValuePair<string, object?>("reason", "body-size"));
                var problem = new BodyProblem("Messages:MaxBodyBytes", limits.MaxBodyBytes, bodyLength, $"a body of {bodyLength} bytes");
                state.Replacement = Frame(header, problem);
                state.SkipRemaining = bodyLength;
                buffer = buffer.Slice(8 + headerLength);
                LogRefused(logger, problem.Detail);
                continue;
            }

            if (buffer.Length < 8L + headerLength + bodyLength)
            {
                return null;
            }

            var frame = buffer.Slice(0, 8L + headerLength + bodyLength);
            if ((mismatch ?? (bodyLength > 0 ? MessageScanner.CheckBody(frame.Slice(8 + headerLength), limits) : null)) is { } bodyProblem)
            {
                Refused.Add(1, new KeyValuePair<string, object?>("reason", "body-shape"));
                LogRefused(logger, bodyProblem.Detail);
                output.Write(Frame(header, bodyProblem));
            }
            else
            {
                Copy(frame, output);
            }

            buffer = buffer.Slice(frame.Length);
        }
    }

    private byte[] Frame(ReadOnlySequence<byte> header, BodyProblem problem)
    {
        var body = serializer.SerializeToArray<object>(RefusedBody.From(problem));
        var frame = new byte[8 + header.Length + body.Length];
        BinaryPrimitives.WriteInt32LittleEndian(frame, (int)header.Length);
        BinaryPrimitives.WriteInt32LittleEndian(frame.AsSpan(4), body.Length);
        header.CopyTo(frame.AsSpan(8));
        body.CopyTo(frame.AsSpan(8 + (int)header.Length));
        return frame;
    }

    private static int ReadInt32(ReadOnlySequence<byte> buffer)
    {
        Span<byte> bytes = stackalloc byte[4];
        buffer.Slice(0, 4).CopyTo(bytes);
        return BinaryPrimitives.ReadInt32LittleEndian(bytes);
    }

    private static void Copy(ReadOnlySequence<byte> source, PipeWriter output)
    {
        foreach (var segment in source)
        {
            output.Write(segment.Span);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Closed the connection from {Remote}: it sent {Problem}")]
    private static partial void LogClosed(ILogger logger, string remote, string problem);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Refused a message from a client: {Problem}")]
    private static partial void LogRefused(ILogger logger, string problem);

    /// <summary>Which grain types implement which of the silo's grain interfaces, from its grain manifest.</summary>
    internal sealed class InterfaceCheck(IClusterManifestProvider manifest)
    {
        private readonly Lazy<(Dictionary<string, HashSet<string>> ByGrain, HashSet<string> All)> _map = new(() =>
        {
            var byGrain = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
            foreach (var (grain, properties) in manifest.LocalGrainManifest.Grains)
            {
                byGrain[grain.ToString()!] = [.. properties.Properties
                    .Where(p => p.Key.StartsWith(WellKnownGrainTypeProperties.ImplementedInterfacePrefix, StringComparison.Ordinal))
                    .Select(p => p.Value)];
            }

            return (byGrain, [.. byGrain.Values.SelectMany(i => i)]);
        });

        /// <summary>
        /// Null, unless <paramref name="interfaceType"/> is one that grain classes implement and the class of
        /// <paramref name="targetType"/> does not (extensions are installed per activation and pass).
        /// </summary>
        public BodyProblem? Check(string? targetType, string? interfaceType)
        {
            if (targetType is null || interfaceType is null)
            {
                return null;
            }

            var (byGrain, all) = _map.Value;
            return byGrain.TryGetValue(targetType, out var implemented) && all.Contains(interfaceType) && !implemented.Contains(interfaceType)
                ? BodyProblem.Malformed($"grains of type '{Cut(targetType)}' do not implement '{Cut(interfaceType)}'")
                : null;
        }

        private static string Cut(string text) => text.Length <= 128 ? text : text[..128] + "...";
    }

    private sealed class State
    {
        public bool PreambleSeen;
        public long SkipRemaining;
        public byte[]? Replacement;
    }

    private sealed class GuardedPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
