using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;
using Orleans.Serialization.Invocation;

namespace Groundwork.Grains.Resources;

/// <summary>
/// A mutation's arguments (all but its <see cref="MutationOptions"/>), reduced to a short hash, kept with its operation
/// record: a retry with the same operation id must repeat them, or it is an <see cref="OperationConflictException"/>
/// rather than a silent replay of a different call's result.
/// </summary>
internal static class OperationFingerprint
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.General);

    /// <summary>The fingerprint of <paramref name="request"/>'s arguments; empty when there is no request (silo code).</summary>
    public static string Of(IInvokable? request)
    {
        if (request is null)
        {
            return "";
        }

        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            for (var i = 0; i < request.GetArgumentCount(); i++)
            {
                var argument = request.GetArgument(i);
                if (argument is MutationOptions or CancellationToken)
                {
                    continue;
                }

                JsonSerializer.Serialize(writer, argument, argument?.GetType() ?? typeof(object), Options);
            }

            writer.WriteEndArray();
        }

        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(buffer.WrittenSpan, hash);
        return Convert.ToHexString(hash[..12]);
    }
}
