using System.Buffers;
using Orleans.Serialization.Buffers;

namespace Groundwork.Transport;

/// <summary>
/// Walks the bytes of one Orleans 10.4 message frame without deserializing anything: every field of the wire format
/// says how to skip it, so nesting depth, type names and request-context entries can be checked in a loop that uses
/// no stack per level. Orleans' own reader recurses once per nested object, which is how one message could exhaust a
/// silo thread's stack before any grain call filter ran.
/// </summary>
/// <remarks>
/// The header layout is Orleans' <c>MessageSerializer</c> of 10.4 (flags, id, grain ids, silo addresses, optional
/// parts, request context last); the field format is Orleans.Serialization's tag byte (wire type, schema type,
/// field id delta). A change in either shows as every message refused, which the silo tests would catch at once.
/// </remarks>
internal static class MessageScanner
{
    // Orleans.Runtime.Message.MessageFlags, 10.4.
    private const uint HasRequestContextData = 1 << 4;
    private const uint HasInterfaceVersion = 1 << 5;
    private const uint HasInterfaceType = 1 << 6;
    private const uint HasCacheInvalidationHeader = 1 << 7;
    private const uint HasTimeToLive = 1 << 8;

    // Request-context values are strings and other flat values; a little nesting is tolerated, no more.
    private const int MaxRequestContextDepth = 4;
    private const int MaxRequestContextKeyBytes = 256;
    private const int MaxCacheUpdates = 1024;
    private const int MaxGenericNesting = 16;

    /// <summary>
    /// Null when the header is well formed and within <paramref name="limits"/> (its length aside), else why not;
    /// with what the header says of the message (<paramref name="facts"/>). A problem in the request context leaves
    /// the rest of the header usable (<see cref="HeaderProblem.Answer"/>): the caller can be answered.
    /// </summary>
    public static HeaderProblem? CheckHeader(ReadOnlySequence<byte> header, MessageLimits limits, out HeaderFacts facts)
    {
        facts = default;
        try
        {
            var reader = Reader.Create(header, null!);
            var flags = reader.ReadUInt32();
            reader.Skip(8); // correlation id
            var senderType = ReadIdSpan(ref reader); // sending grain: type, key
            var senderKey = ReadIdSpan(ref reader);
            var targetType = ReadIdSpan(ref reader); // target grain: type, key
            SkipIdSpan(ref reader);
            string? interfaceType = null;
            SkipLengthPrefixed(ref reader); // sending silo
            SkipLengthPrefixed(ref reader); // target silo
            if ((flags & HasTimeToLive) != 0)
            {
                reader.Skip(4);
            }

            if ((flags & HasInterfaceType) != 0)
            {
                interfaceType = ReadIdSpan(ref reader);
            }

            facts = new HeaderFacts((flags >> 16) & 0xF, $"{senderType}/{senderKey}", targetType, interfaceType, -1);

            if ((flags & HasInterfaceVersion) != 0)
            {
                _ = reader.ReadVarUInt32();
            }

            if ((flags & HasCacheInvalidationHeader) != 0)
            {
                var updates = reader.ReadVarUInt32();
                if (updates > MaxCacheUpdates)
                {
                    return new HeaderProblem($"{updates} cache updates in the header", null);
                }

                for (var i = 0; i < updates; i++)
                {
                    if (SkipField(ref reader, limits.MaxNestingDepth, limits) is { } problem)
                    {
                        return new HeaderProblem($"cache update: {problem.Detail}", null);
                    }
                }
            }

            if ((flags & HasRequestContextData) != 0)
            {
                facts = facts with { RequestContextStart = reader.Position };
                try
                {
                    var entries = reader.ReadVarUInt32();
                    if (entries > limits.MaxRequestContextEntries)
                    {
                        return Answerable(new BodyProblem("Messages:MaxRequestContextEntries", limits.MaxRequestContextEntries, entries,
                            $"{entries} request-context entries"));
                    }

                    for (var i = 0; i < entries; i++)
                    {
                        var keyLength = reader.ReadVarUInt32();
                        if (keyLength == 0 || keyLength - 1 > MaxRequestContextKeyBytes)
                        {
                            return Answerable(BodyProblem.Malformed($"a request-context key that is missing or longer than {MaxRequestContextKeyBytes} bytes"));
                        }

                        reader.Skip(keyLength - 1);
                        if (SkipField(ref reader, MaxRequestContextDepth, limits) is { } problem)
                        {
                            return Answerable(problem.Limit == "Messages:MaxNestingDepth"
                                ? new BodyProblem("Messages:MaxRequestContextDepth", MaxRequestContextDepth, problem.Attempted, $"a request-context value {problem.Detail}")
                                : BodyProblem.Malformed($"a request-context value: {problem.Detail}"));
                        }
                    }
                }
                catch (Exception exception) when (exception is not OutOfMemoryException)
                {
                    return Answerable(BodyProblem.Malformed("a request context that is not Orleans'"));
                }
            }

            return reader.Position == header.Length ? null : new HeaderProblem("bytes after the request context", null);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            return new HeaderProblem("a header that is not an Orleans message header", null);
        }

        static HeaderProblem Answerable(BodyProblem answer) => new(answer.Detail, answer);
    }

    /// <summary>Null when the body is one well-formed field within <paramref name="limits"/>, else the limit it breaks.</summary>
    public static BodyProblem? CheckBody(ReadOnlySequence<byte> body, MessageLimits limits)
    {
        try
        {
            var reader = Reader.Create(body, null!);
            if (SkipField(ref reader, limits.MaxNestingDepth, limits) is { } problem)
            {
                return problem;
            }

            return reader.Position == body.Length ? null : BodyProblem.Malformed("bytes after the body");
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            return BodyProblem.Malformed("a body that is not one Orleans field");
        }
    }

    /// <summary>Skips one field and everything nested in it, iteratively; null when it stays within the limits.</summary>
    private static BodyProblem? SkipField(ref Reader<ReadOnlySequenceInput> reader, int maxDepth, MessageLimits limits)
    {
        var depth = 0;
        do
        {
            var tag = reader.ReadByte();
            if (tag >= 0b1110_0000)
            {
                // A control tag: the end of an object (0b00) or of its base class's fields (0b01).
                switch (tag & 0b0001_1000)
                {
                    case 0b0000_0000 when depth > 0:
                        depth--;
                        break;
                    case 0b0000_1000 when depth > 0:
                        break;
                    default:
                        return BodyProblem.Malformed("a control tag outside an object");
                }

                continue;
            }

            if ((tag & 0b0000_0111) == 0b0000_0111)
            {
                _ = reader.ReadVarUInt32(); // field id delta that did not fit in the tag
            }

            switch (tag & 0b0001_1000)
            {
                case 0b0000_1000: // well-known type id
                case 0b0001_1000: // reference to a type named earlier
                    _ = reader.ReadVarUInt32();
                    break;
                case 0b0001_0000: // type named here
                    if (SkipEncodedType(ref reader, limits) is { } problem)
                    {
                        return problem;
                    }

                    break;
            }

            switch (tag & 0b1110_0000)
            {
                case 0b0000_0000: // VarInt
                    _ = reader.ReadVarUInt64();
                    break;
                case 0b0010_0000: // TagDelimited: an object follows, up to its end tag
                    if (++depth > maxDepth)
                    {
                        return new BodyProblem("Messages:MaxNestingDepth", maxDepth, depth, $"objects nested more than {maxDepth} deep");
                    }

                    break;
                case 0b0100_0000: // LengthPrefixed
                    reader.Skip(reader.ReadVarUInt32());
                    break;
                case 0b0110_0000: // Fixed32
                    reader.Skip(4);
                    break;
                case 0b1000_0000: // Fixed64
                    reader.Skip(8);
                    break;
                case 0b1100_0000: // Reference to an object read earlier
                    _ = reader.ReadVarUInt32();
                    break;
                default:
                    return BodyProblem.Malformed("an unknown wire type");
            }
        }
        while (depth > 0);

        return null;
    }

    private static BodyProblem? SkipEncodedType(ref Reader<ReadOnlySequenceInput> reader, MessageLimits limits)
    {
        _ = reader.ReadByte(); // encoding version
        reader.Skip(4); // hash code
        var length = reader.ReadVarUInt32();
        if (length > limits.MaxTypeNameBytes)
        {
            return new BodyProblem("Messages:MaxTypeNameBytes", limits.MaxTypeNameBytes, length, $"a type name of {length} bytes");
        }

        Span<byte> name = stackalloc byte[(int)length];
        reader.ReadBytes(name);
        var nesting = 0;
        foreach (var b in name)
        {
            if (b == (byte)'[' && ++nesting > MaxGenericNesting)
            {
                return new BodyProblem("Messages:MaxTypeNameBytes", MaxGenericNesting, nesting, $"a type name with generic arguments nested more than {MaxGenericNesting} deep");
            }

            if (b == (byte)']')
            {
                nesting--;
            }
        }

        return null;
    }

    private static void SkipIdSpan(ref Reader<ReadOnlySequenceInput> reader)
    {
        var length = reader.ReadVarUInt32();
        if (length > 0)
        {
            reader.Skip(4 + (long)length); // hash code, then the bytes
        }
    }

    private static string? ReadIdSpan(ref Reader<ReadOnlySequenceInput> reader)
    {
        var length = reader.ReadVarUInt32();
        if (length == 0)
        {
            return null;
        }

        if (length > 1024)
        {
            throw new InvalidDataException("an id longer than 1 KiB");
        }

        reader.Skip(4); // hash code
        Span<byte> bytes = stackalloc byte[(int)length];
        reader.ReadBytes(bytes);
        return System.Text.Encoding.UTF8.GetString(bytes);
    }

    private static void SkipLengthPrefixed(ref Reader<ReadOnlySequenceInput> reader) => reader.Skip(reader.ReadVarUInt32());
}

/// <summary>What a message header says: its direction, the sending grain (as <c>{type}/{key}</c>), the target's type and the interface.</summary>
/// <remarks><see cref="RequestContextStart"/> is where the request context begins in the header, or -1.</remarks>
internal readonly record struct HeaderFacts(uint Direction, string Sender, string? TargetType, string? InterfaceType, long RequestContextStart)
{
    /// <summary>A request or a one-way request (not a response).</summary>
    public bool IsRequest => Direction is 1 or 3;
}

/// <summary>
/// What is wrong with a header: with <see cref="Answer"/>, the rest of the header is sound and the caller can be told
/// (the request context is dropped); without, the connection must end.
/// </summary>
internal sealed record HeaderProblem(string Detail, BodyProblem? Answer);

/// <summary>Why a message body is refused: a limit it breaks, or (with no limit) bytes that are not a message body.</summary>
/// <param name="Limit">The limit's name, as <see cref="LimitExceededException.Limit"/> reports it; null when malformed.</param>
/// <param name="Maximum">The limit's value.</param>
/// <param name="Attempted">What the message needed (for depth: the first level past the limit).</param>
/// <param name="Detail">What was found, for people.</param>
internal sealed record BodyProblem(string? Limit, long Maximum, long Attempted, string Detail)
{
    public static BodyProblem Malformed(string detail) => new(null, 0, 0, detail);

    /// <summary>The error the caller receives.</summary>
    public GroundworkException ToException() => Limit is null
        ? new InvalidRequestException("message", $"{Detail}; nothing was called")
        : new LimitExceededException(Limit, Maximum, Attempted);
}
