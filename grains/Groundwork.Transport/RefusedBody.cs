using System.Buffers;
using System.Text.Json;
using Orleans.Serialization.Buffers;
using Orleans.Serialization.Codecs;
using Orleans.Serialization.Serializers;
using Orleans.Serialization.WireProtocol;

namespace Groundwork.Transport;

/// <summary>
/// What <see cref="MessageGuard"/> puts in place of a body it refuses. Orleans reads the message's header, then fails
/// to read this body with the refusal as the error, and sends that error straight back to the caller: the caller gets
/// a typed answer at once instead of waiting for its timeout, and nothing is called.
/// </summary>
internal sealed record RefusedBody(string? Limit, long Maximum, long Attempted, string Detail)
{
    public static RefusedBody From(BodyProblem problem) => new(problem.Limit, problem.Maximum, problem.Attempted, problem.Detail);
}

/// <summary>Writes a <see cref="RefusedBody"/> as one length-prefixed field; reading it throws the refusal.</summary>
internal sealed class RefusedBodyCodec : IGeneralizedCodec
{
    public bool IsSupportedType(Type type) => type == typeof(RefusedBody);

    public void WriteField<TBufferWriter>(ref Writer<TBufferWriter> writer, uint fieldIdDelta, [System.Diagnostics.CodeAnalysis.AllowNull] Type expectedType, object? value)
        where TBufferWriter : IBufferWriter<byte>
    {
        ReferenceCodec.MarkValueField(writer.Session);
        writer.WriteFieldHeader(fieldIdDelta, expectedType, typeof(RefusedBody), WireType.LengthPrefixed);
        var bytes = JsonSerializer.SerializeToUtf8Bytes((RefusedBody)value!);
        writer.WriteVarUInt32((uint)bytes.Length);
        writer.Write(bytes);
    }

    public object ReadValue<TInput>(ref Reader<TInput> reader, Field field)
    {
        ReferenceCodec.MarkValueField(reader.Session);
        var length = reader.ReadVarUInt32();
        if (length > 4096)
        {
            throw new InvalidRequestException("message", "a refused body that is not Groundwork's");
        }

        var refused = JsonSerializer.Deserialize<RefusedBody>(reader.ReadBytes(length))!;
        throw new BodyProblem(refused.Limit, refused.Maximum, refused.Attempted, refused.Detail).ToException();
    }
}
