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
internal sealed partial class MessageGuard(
    MessageLimits limits,
    Serializer serializer,
    MessageGuard.InterfaceCheck? interfaces,
    RefusalBudget? budget,
    ILogger<MessageGuard> logger)
{
    private const int MaxPreambleBytes = 1024; // Orleans' own limit for the connection preamble

    // A header past MaxHeaderBytes is still read, to answer its caller, up to this; past it the connection ends.
    private const int HardMaxHeaderBytes = 1024 * 1024;
    private static readonly Meter Meter = new("Groundwork");
    private static readonly Counter<long> Refused = Meter.CreateCounter<long>("groundwork.messages.refused", "{message}",
        "Messages from clients refused before Orleans read them, by reason: answered (header, body-size, body-shape) or the connection ended (connection).");
    private static readonly Counter<long> Held = Meter.CreateCounter<long>("groundwork.messages.held", "{message}",
        "Requests held back because their client had used up its budget of refused calls.");

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
                    // When holding back a client in debt, nothing new needs to arrive to go on.
                    input.AdvanceTo(buffer.Start, state.Hold > TimeSpan.Zero ? buffer.Start : buffer.End);
                }

                if (fatal is not null)
                {
                    Refused.Add(1, new KeyValuePair<string, object?>("reason", "connection"));
                    LogClosed(logger, remote ?? "?", fatal);
                    error = new InvalidDataException($"Groundwork refused a message: {fatal}");
                    break;
                }

                var flush = await output.FlushAsync();
                if (flush.IsCompleted || flush.IsCanceled || (result.IsCompleted && state.Hold == TimeSpan.Zero) || result.IsCanceled)
                {
                    break;
                }

                if (state.Hold > TimeSpan.Zero)
                {
                    Held.Add(1);
                    await Task.Delay(state.Hold);
                    state.Hold = TimeSpan.Zero;
                    state.Paid = true;
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
            if (headerLength <= 0 || headerLength > HardMaxHeaderBytes)
            {
                return $"a message header of {headerLength} bytes";
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
            var headerProblem = MessageScanner.CheckHeader(header, limits, out var facts);
            if (headerProblem is { Answer: null })
            {
                return headerProblem.Detail;
            }

            if (facts.IsRequest && budget is not null)
            {
                // One connection speaks for one client, so what its calls cost is counted against it.
                state.Client ??= facts.Sender;
                if (!string.Equals(state.Client, facts.Sender, StringComparison.Ordinal))
                {
                    return "requests in the name of more than one client";
                }

                if (!state.Paid && budget.DelayFor(state.Client) is { } hold && hold > TimeSpan.Zero)
                {
                    state.Hold = hold;
                    return null;
                }

                state.Paid = false;
            }

            var answer = headerProblem?.Answer ??
                (headerLength > limits.MaxHeaderBytes
                    ? new BodyProblem("Messages:MaxHeaderBytes", limits.MaxHeaderBytes, headerLength, $"a header of {headerLength} bytes")
                    : bodyLength > limits.MaxBodyBytes
                        ? new BodyProblem("Messages:MaxBodyBytes", limits.MaxBodyBytes, bodyLength, $"a body of {bodyLength} bytes")
                        : null);
            if (answer is not null)
            {
                // Skip the body as it arrives (never held whole), then let Orleans answer the caller with the
                // refusal; the request context, if it is what broke a limit, is dropped unread.
                CountRefusal(answer.Limit == "Messages:MaxBodyBytes" ? "body-size" : "header", answer, facts, state);
                state.Replacement = Frame(WithoutRequestContext(header, facts.RequestContextStart), answer);
                state.SkipRemaining = bodyLength;
                buffer = buffer.Slice(8 + headerLength);

                if (bodyLength == 0)
                {
                    output.Write(state.Replacement);
                    state.Replacement = null;
                }

                continue;
            }

            if (buffer.Length < 8L + headerLength + bodyLength)
            {
                return null;
            }

            // A call of an interface the target grain does not implement would fail inside Orleans with its own
            // InvalidCastException (and stack) before any filter runs: answer it here, typed.
            var mismatch = interfaces?.Check(facts.TargetType, facts.InterfaceType);
            var frame = buffer.Slice(0, 8L + headerLength + bodyLength);
            if ((mismatch ?? (bodyLength > 0 ? MessageScanner.CheckBody(frame.Slice(8 + headerLength), limits) : null)) is { } bodyProblem)
            {
                CountRefusal("body-shape", bodyProblem, facts, state);
                output.Write(Frame(header, bodyProblem));
            }
            else
            {
                Copy(frame, output);
            }

            buffer = buffer.Slice(frame.Length);
        }
    }

    /// <summary>Counts an answered refusal, and charges it to the client's budget when it refuses a request.</summary>
    private void CountRefusal(string reason, BodyProblem problem, HeaderFacts facts, State state)
    {
        Refused.Add(1, new KeyValuePair<string, object?>("reason", reason));
        LogRefused(logger, problem.Detail);
        if (facts.IsRequest)
        {
            budget?.Refused(state.Client!);
        }
    }

    /// <summary>The header cut before its request context, with the flag that announces one cleared.</summary>
    private static ReadOnlySequence<byte> WithoutRequestContext(ReadOnlySequence<byte> header, long requestContextStart)
    {
        if (requestContextStart < 0)
        {
            return header;
        }

        var bytes = header.Slice(0, requestContextStart).ToArray();
        var flags = BinaryPrimitives.ReadUInt32LittleEndian(bytes);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, flags & ~(1u << 4)); // Orleans' HasRequestContextData
        return new ReadOnlySequence<byte>(bytes);
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
        public string? Client;
        public TimeSpan Hold;
        public bool Paid;
        public long SkipRemaining;
        public byte[]? Replacement;
    }

    private sealed class GuardedPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
